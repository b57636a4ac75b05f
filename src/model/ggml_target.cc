#include "model/ggml_target.h"

#include <algorithm>
#include <cctype>

#include "io/gguf.h"
#include "kernels/ggml_dequant.h"

namespace anser {
namespace {

// llama.cpp's llama_ftype codes.
constexpr uint32_t kFtypeQ5_1 = 9, kFtypeQ2_K = 10, kFtypeQ3_K_M = 12, kFtypeQ4_K_M = 15,
                   kFtypeQ5_K_M = 17, kFtypeQ6_K = 18, kFtypeIq4Nl = 25, kFtypeIq4Xs = 30;

const GgmlTarget kTargets[] = {
    {"Q2_K", kGgmlQ2_K, kGgmlQ6_K, kFtypeQ2_K},
    {"Q3_K_M", kGgmlQ3_K, kGgmlQ6_K, kFtypeQ3_K_M},
    {"Q4_K_M", kGgmlQ4_K, kGgmlQ6_K, kFtypeQ4_K_M},
    {"Q5_K_M", kGgmlQ5_K, kGgmlQ6_K, kFtypeQ5_K_M},
    {"q3_K", kGgmlQ3_K, std::nullopt, kFtypeQ3_K_M},
    {"q4_K", kGgmlQ4_K, std::nullopt, kFtypeQ4_K_M},
    {"q5_K", kGgmlQ5_K, std::nullopt, kFtypeQ5_K_M},
    {"q6_K", kGgmlQ6_K, std::nullopt, kFtypeQ6_K},
    {"iq4_nl", kGgmlIq4Nl, std::nullopt, kFtypeIq4Nl},
    {"iq4_xs", kGgmlIq4Xs, std::nullopt, kFtypeIq4Xs},
    {"q5_1", kGgmlQ5_1, std::nullopt, kFtypeQ5_1},
};

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

}  // namespace

std::optional<GgmlTarget> ParseGgmlTarget(std::string_view name) {
  const std::string want = Lower(name);
  for (const GgmlTarget& t : kTargets) {
    if (Lower(t.name) == want) return t;
  }
  return std::nullopt;
}

std::vector<std::string> GgmlTargetNameList() {
  std::vector<std::string> names;
  for (const GgmlTarget& t : kTargets) names.push_back(t.name);
  return names;
}

std::string GgmlTargetNames() {
  std::string names;
  for (const std::string& n : GgmlTargetNameList()) names += (names.empty() ? "" : ", ") + n;
  return names;
}

StoredType FitGgmlType(uint32_t type, int64_t cols) {
  const std::optional<GgmlBlock> block = GgmlDequantBlock(type);
  if (block && cols % block->elems == 0) return {type, DType::kF16};
  if (cols % 32 != 0) return {std::nullopt, DType::kF16};
  switch (type) {
    case kGgmlQ4_K: return {std::nullopt, DType::kQ5_0};
    case kGgmlQ5_K: return {kGgmlQ5_1, DType::kF16};
    case kGgmlQ6_K: return {std::nullopt, DType::kQ8_0};
    default: return {kGgmlIq4Nl, DType::kF16};
  }
}

StoredType GgmlTypeForRole(TensorRole role, int64_t cols, DType stored, const GgmlTarget& target) {
  switch (role) {
    case TensorRole::kVector: return {std::nullopt, DType::kF32};
    case TensorRole::kLora: return {std::nullopt, DTypeIsBlock(stored) ? DType::kF32 : stored};
    case TensorRole::kHead: return FitGgmlType(target.head.value_or(target.base), cols);
    case TensorRole::kProjection:
    case TensorRole::kEmbedding: break;
  }
  return FitGgmlType(target.base, cols);
}

std::string StoredTypeName(const StoredType& type) {
  return type.ggml ? GgmlTypeName(*type.ggml) : std::string(DTypeName(type.dtype));
}

}  // namespace anser
