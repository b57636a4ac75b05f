// The GGML types Anser writes for llama.cpp but runs only after converting them at load (the
// K-quants, iq4_nl, iq4_xs, q5_1: kernels/ggml_quantize.h), and llama-quantize's mixes of them,
// as `anser quantize --dtype` names them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/dtype.h"
#include "model/tensor_plan.h"

namespace anser {

struct GgmlTarget {
  std::string name;              // canonical: "q4_K", "Q4_K_M", "iq4_xs", …
  uint32_t base = 0;             // every large matrix's type, the embedding included
  std::optional<uint32_t> head;  // the output head's where it differs (the mixes: q6_K)
  uint32_t file_type = 0;        // llama.cpp's llama_ftype, for general.file_type
};

// Case-insensitive. As llama-quantize does for RWKV-7 (its mix rules look for tensor names RWKV
// models lack): Q2_K, Q3_K_M, Q4_K_M and Q5_K_M are every large matrix at the base type and the
// head at q6_K; q3_K, q4_K, q5_K, q6_K, iq4_nl, iq4_xs and q5_1 are every large matrix at that
// type ("--pure"). q2_K names the Q2_K mix: the two names differ only in case.
std::optional<GgmlTarget> ParseGgmlTarget(std::string_view name);

// Every name ParseGgmlTarget takes, in its canonical case; and joined by ", " for messages.
std::vector<std::string> GgmlTargetNameList();
std::string GgmlTargetNames();

// A matrix's stored type: a GGML type of kernels/ggml_quantize.h, or a DType.
struct StoredType {
  std::optional<uint32_t> ggml;
  DType dtype = DType::kF16;
};

// `type` for rows of `cols` elements when its block divides them; otherwise llama-quantize's
// fallback (q4_K → q5_0, q5_K → q5_1, q6_K → q8_0, q2_K, q3_K and iq4_xs → iq4_nl), and f16
// for rows no 32-element block divides.
StoredType FitGgmlType(uint32_t type, int64_t cols);

// A tensor's stored type under `target`, by its role: the large matrices at the target's types
// (FitGgmlType), the LoRA matrices as `stored` (f32 if that is a block type), vectors f32.
StoredType GgmlTypeForRole(TensorRole role, int64_t cols, DType stored, const GgmlTarget& target);

// "q4_K", "q5_0", … of a stored type.
std::string StoredTypeName(const StoredType& type);

}  // namespace anser
