// Scalar dequantization of the GGML block types that GGUF files from llama-quantize hold: q5_1,
// the K-quants (q2_K … q8_K, super-blocks of 256) and the non-linear iq4_nl and iq4_xs. All but
// q8_K run natively (GgmlNativeType); the GGUF reader turns q8_K's rows into q8_0 at load with
// these (io/gguf_reader.cc). Every formula has at most one inexact
// float operation, so the results are bit-identical to ggml's own dequantization.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>

#include "core/dtype.h"
#include "kernels/quant_blocks.h"  // kIq4Levels

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

struct GgmlBlock {
  int64_t elems;  // elements per block
  size_t bytes;   // bytes per block
};

// The block of a type DequantizeGgmlRow reads; nothing for any other type.
std::optional<GgmlBlock> GgmlDequantBlock(uint32_t ggml_type);

// `cols` floats from one stored row of `ggml_type` (a type GgmlDequantBlock knows; `cols` a
// multiple of its block). `row` may have any alignment.
void DequantizeGgmlRow(uint32_t ggml_type, const uint8_t* row, int64_t cols, float* out);

// The GGML type of a DType whose rows these functions and QuantizeGgmlRow read and write (q2_K,
// q3_K, q4_K, q5_K, q6_K, iq4_nl, iq4_xs, q5_1); nothing for any other DType.
std::optional<uint32_t> GgmlNativeType(DType dtype);

// The type a tensor of one of these types runs as in Anser: GgmlNativeType's types as themselves,
// the others as q8_0, which keeps llama-quantize's files within the fixture bar (rms deviation
// from the float64 reference ≤ 1.25× llama.cpp's, tests/gguf/gguf_quants_test.cc).
DType GgmlRunAs(uint32_t ggml_type);

// One stored row of `ggml_type` as a row of GgmlRunAs(ggml_type) (DTypeRowBytes of it at
// `out`): copied where that is the same type, else dequantized and quantized again as `anser
// quantize` does. `scratch` holds `cols` floats (the caller's, so converting a tensor allocates
// nothing per row).
void ConvertGgmlRow(uint32_t ggml_type, const uint8_t* row, int64_t cols, float* scratch, uint8_t* out);

}  // namespace anser
