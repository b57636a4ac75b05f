// The model's weights, ready for the forward pass. Large matrices are views of the stored data
// (memory-mapped, read in place by the kernels); small vectors are converted once to float32
// and the LoRA matrices transposed once so every product is W·x.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "anser/model.h"
#include "io/gguf.h"
#include "io/tensor_store.h"
#include "kernels/kernels.h"
#include "model/tensor_plan.h"

namespace anser {

struct LayerWeights {
  // Vectors, float32, n_embd values each unless noted.
  const float* ln1_w; const float* ln1_b;
  const float* ln2_w; const float* ln2_b;
  const float* x_r; const float* x_w; const float* x_k;
  const float* x_v; const float* x_a; const float* x_g;
  const float* w0; const float* a0; const float* v0;  // v0 null in layer 0
  const float* k_k; const float* k_a;
  const float* r_k;                                    // (n_head, head_size)
  const float* ln_x_w; const float* ln_x_b;
  const float* ffn_x_k;
  // LoRA as W·x, transposed once into their stored float type (float32 for block types):
  // w1 (rank_w, n_embd), w2 (n_embd, rank_w), likewise a, v, g.
  MatRef w1, w2, a1, a2, v1, v2, g1, g2;  // v1/v2 empty in layer 0
  // Projections in their stored type.
  MatRef receptance, key, value, output;  // (n_embd, n_embd)
  MatRef ffn_key;                         // (n_ffn, n_embd)
  MatRef ffn_value;                       // (n_embd, n_ffn)
};

class Weights {
 public:
  // Validates every tensor of `store` (official `.pth` names) against the RWKV-7 layout and
  // infers the configuration from the shapes. With WeightLayout::kKernels the projections and
  // the head are packed in place for the selected kernels, so the store's views of them no
  // longer hold the file's bytes (unless a packed file held them in that layout already).
  // Matrices a packed file holds in another layout, or any with kStored, are unpacked first.
  static Result<std::unique_ptr<Weights>> Build(TensorStore store, WeightLayout layout);

  const ModelConfig& config() const { return config_; }
  // Whether a matrix is in a tile layout (packed at load, or read in place from a packed file):
  // then the store's views of those hold tiles, not rows (never with kStored, nor for float
  // weights).
  bool packed() const { return packed_; }
  const TensorStore& store() const { return store_; }
  // The layout a packed file stored the matrices in (kRows: a standard file), and whether they
  // are read there in place, the selected table packing so (false: unpacked at load, or a
  // standard file).
  MatLayout file_layout() const { return file_layout_; }
  bool file_layout_in_place() const { return file_layout_in_place_; }
  const LayerWeights& layer(int l) const { return layers_[static_cast<size_t>(l)]; }

  MatRef emb;                      // (n_vocab, n_embd)
  const float* ln0_w; const float* ln0_b;
  const float* ln_out_w; const float* ln_out_b;
  MatRef head;                     // (n_vocab, n_embd)

 private:
  Weights(TensorStore store, WeightLayout layout) : store_(std::move(store)), layout_(layout) {}
  TensorStore store_;
  WeightLayout layout_;
  bool packed_ = false;
  MatLayout file_layout_ = MatLayout::kRows;
  bool file_layout_in_place_ = false;
  ModelConfig config_;
  std::vector<LayerWeights> layers_;
  friend class WeightsBuilder;
};

// Renames a Hugging Face (fla-hub RWKV7) store to the official `.pth` names and layouts.
// Tensors it does not know keep their names, so validation reports them.
Result<TensorStore> HfToOfficial(TensorStore hf);

// Renames the tensors of a llama.cpp `rwkv7` GGUF file to the official `.pth` names and
// layouts: the fused lerps split into x_r…x_g (views), the LoRA matrices transposed back, r_k
// reshaped to (n_head, head_size) from rwkv7.wkv.head_size, layer 0's placeholder v0/v1/v2
// dropped. Errors on another architecture. Unknown tensors keep their names.
Result<TensorStore> GgufToOfficial(GgufFile gguf);

// The tensors llama.cpp's `rwkv7` loader expects, built from official names: the inverse of
// GgufToOfficial, with layer 0's v0/v1/v2 copied from a0/a1/a2 as llama.cpp's converter does.
std::vector<TensorPlan> OfficialToGgufPlan(const ModelConfig& config);

}  // namespace anser
