#include <algorithm>
#include <cstring>

#include "anser/model.h"
#include "io/formats.h"

namespace anser {

State::State(const ModelConfig& c)
    : n_layer_(c.n_layer),
      n_embd_(c.n_embd),
      n_head_(c.n_head),
      head_size_(c.head_size),
      att_shift_(static_cast<size_t>(c.n_layer) * c.n_embd),
      wkv_(static_cast<size_t>(c.n_layer) * c.n_head * c.head_size * c.head_size),
      ffn_shift_(static_cast<size_t>(c.n_layer) * c.n_embd) {}

void State::Reset() {
  std::fill(att_shift_.begin(), att_shift_.end(), 0.0f);
  std::fill(wkv_.begin(), wkv_.end(), 0.0f);
  std::fill(ffn_shift_.begin(), ffn_shift_.end(), 0.0f);
}

bool State::SameShape(const ModelConfig& c) const {
  return n_layer_ == c.n_layer && n_embd_ == c.n_embd && n_head_ == c.n_head && head_size_ == c.head_size;
}

Status State::Save(const std::string& path) const {
  const std::vector<TensorView> tensors = {
      {"wkv", DType::kF32, {n_layer_, n_head_, head_size_, head_size_}, wkv_.data()},
      {"att_shift", DType::kF32, {n_layer_, n_embd_}, att_shift_.data()},
      {"ffn_shift", DType::kF32, {n_layer_, n_embd_}, ffn_shift_.data()},
  };
  return SaveTorchPth(path, tensors);
}

Result<State> State::Load(const std::string& path, const ModelConfig& c) {
  ANSER_ASSIGN_OR_RETURN(TensorStore store, LoadTorchPth(path));
  State s(c);
  const std::pair<const char*, std::vector<float>*> parts[] = {
      {"wkv", &s.wkv_}, {"att_shift", &s.att_shift_}, {"ffn_shift", &s.ffn_shift_}};
  const std::vector<int64_t> shapes[] = {
      {c.n_layer, c.n_head, c.head_size, c.head_size}, {c.n_layer, c.n_embd}, {c.n_layer, c.n_embd}};
  for (size_t i = 0; i < 3; ++i) {
    const auto& [name, dst] = parts[i];
    TensorView expected{name, DType::kF32, shapes[i], nullptr};
    const TensorView* t = store.Find(name);
    if (t == nullptr) {
      return Status::Error("[state] '" + path + "' has no '" + name + "' tensor: not an Anser state file");
    }
    if (t->dtype != DType::kF32 || t->shape != expected.shape) {
      return Status::Error("[state] '" + path + "': '" + name + "' is " + std::string(DTypeName(t->dtype)) +
                           " " + t->ShapeString() + ", but this model needs f32 " + expected.ShapeString());
    }
    std::memcpy(dst->data(), t->data, t->nbytes());
  }
  return s;
}

}  // namespace anser
