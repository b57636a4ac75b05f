// Scanning a model's tensors for values no trained model holds: NaN, ±Inf, and magnitudes
// beyond the thresholds below (`anser check`). A weight of a trained RWKV-7 model stays
// within a few hundred; the embedding is layer-normalised before use, so only a far larger
// value there is a sign of damage.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/dtype.h"
#include "io/tensor_store.h"

namespace anser {

inline constexpr double kMaxAbsWeight = 1e4;     // every tensor but the embedding
inline constexpr double kMaxAbsEmbedding = 1e6;  // emb.weight

struct TensorScan {
  std::string name;
  DType dtype = DType::kF32;
  int64_t nan = 0;
  int64_t inf = 0;
  double max_abs = 0;  // over the finite values
  double limit = 0;    // kMaxAbsWeight or kMaxAbsEmbedding
  bool finding() const { return nan > 0 || inf > 0 || max_abs > limit; }
};

// Every tensor of `store` (official names; block types dequantized row by row), in store order.
// `progress`, if set, is called after each tensor with the count done and the total.
std::vector<TensorScan> ScanTensors(
    const TensorStore& store, const std::function<void(size_t done, size_t total)>& progress = {});

}  // namespace anser
