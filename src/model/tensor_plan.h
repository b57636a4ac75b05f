// TensorPlan: how one tensor of another layout (GGUF, Hugging Face) is assembled from the
// official tensors, so one routine can write every format with any conversion of type.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace anser {

// What a tensor is for; it decides which stored type a conversion gives it.
enum class TensorRole {
  kVector,      // norms, lerps, biases, k_k, k_a, r_k: small, kept in float
  kLora,        // w1…g2: small matrices, converted to float32 at load anyway
  kProjection,  // receptance, key, value, output, ffn key/value: the bulk of the weights
  kEmbedding,   // emb.weight (one row read per token)
  kHead,        // head.weight
};

struct TensorPlan {
  std::string name;                // in the target layout
  std::vector<std::string> parts;  // official names; their elements concatenated in order
  bool transpose = false;          // each part is 2-D and is transposed first
  std::vector<int64_t> shape;      // PyTorch order; numel = the parts' total
  TensorRole role = TensorRole::kVector;
};

}  // namespace anser
