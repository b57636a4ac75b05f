// Scalar dequantization of the GGML block types that GGUF files from llama-quantize hold: q5_1,
// the K-quants (q2_K … q8_K, super-blocks of 256) and the non-linear iq4_nl and iq4_xs. q4_K and
// q6_K run natively (DType::kQ4_K, kQ6_K); the GGUF reader turns the others' rows into q8_0
// (q5_1: f32) at load with these (io/gguf_reader.cc). Every formula has at most one inexact
// float operation, so the results are bit-identical to ggml's own dequantization.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>

#include "core/dtype.h"

namespace anser {

// ggml.h's enum ggml_type codes of these types.
inline constexpr uint32_t kGgmlQ5_1 = 7;
inline constexpr uint32_t kGgmlQ2_K = 10;
inline constexpr uint32_t kGgmlQ3_K = 11;
inline constexpr uint32_t kGgmlQ4_K = 12;
inline constexpr uint32_t kGgmlQ5_K = 13;
inline constexpr uint32_t kGgmlQ6_K = 14;
inline constexpr uint32_t kGgmlQ8_K = 15;
inline constexpr uint32_t kGgmlIq4Nl = 20;
inline constexpr uint32_t kGgmlIq4Xs = 23;

// The 16 levels of iq4_nl and iq4_xs, ascending: a 4-bit code indexes them.
inline constexpr int8_t kIq4Levels[16] = {-127, -104, -83, -65, -49, -35, -22, -10,
                                          1,    13,   25,  38,  53,  69,  89,  113};

struct GgmlBlock {
  int64_t elems;  // elements per block
  size_t bytes;   // bytes per block
};

// The block of a type DequantizeGgmlRow reads; nothing for any other type.
std::optional<GgmlBlock> GgmlDequantBlock(uint32_t ggml_type);

// `cols` floats from one stored row of `ggml_type` (a type GgmlDequantBlock knows; `cols` a
// multiple of its block). `row` may have any alignment.
void DequantizeGgmlRow(uint32_t ggml_type, const uint8_t* row, int64_t cols, float* out);

// The GGML type of a K-quant DType (q4_K, q6_K); nothing for any other DType.
std::optional<uint32_t> GgmlKQuantType(DType dtype);

// The type a tensor of one of these types runs as in Anser. q4_K and q6_K run as themselves.
// q8_0 keeps llama-quantize's files within the fixture bar (rms deviation from the float64
// reference ≤ 1.25× llama.cpp's, tests/gguf/gguf_quants_test.cc) for every other type but q5_1:
// its offset levels do not fall on q8_0's grid, and rounding them again to 8 bits doubled
// llama.cpp's deviation, so q5_1 runs as f32. iq4_nl's levels are q8_0 codes: it is copied across
// exactly (GgmlRowAsQ8_0Exactly).
DType GgmlRunAs(uint32_t ggml_type);

// One stored row of `ggml_type` as a row of GgmlRunAs(ggml_type) (DTypeRowBytes of it at
// `out`): copied where that is the same type, else dequantized, and for q8_0 quantized again as
// `anser quantize` does, except where GgmlRowAsQ8_0Exactly carries the values across exactly.
// `scratch` holds `cols` floats (the caller's, so converting a tensor allocates nothing per row).
void ConvertGgmlRow(uint32_t ggml_type, const uint8_t* row, int64_t cols, float* scratch, uint8_t* out);

// Writes one stored row of `ggml_type` as q8_0 blocks ({f16 d; int8 qs[32]}) holding exactly
// the values DequantizeGgmlRow gives, where the type's levels are q8_0 codes under its own scale:
// iq4_nl (d·level, every level in [-127, 127]). Returns false, writing nothing, for other types.
bool GgmlRowAsQ8_0Exactly(uint32_t ggml_type, const uint8_t* row, int64_t cols, uint8_t* out);

}  // namespace anser
