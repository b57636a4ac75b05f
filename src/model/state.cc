#include <algorithm>
#include <cmath>
#include <memory>
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

std::vector<TensorView> State::Views() const {
  return {
      {"wkv", DType::kF32, {n_layer_, n_head_, head_size_, head_size_}, wkv_.data()},
      {"att_shift", DType::kF32, {n_layer_, n_embd_}, att_shift_.data()},
      {"ffn_shift", DType::kF32, {n_layer_, n_embd_}, ffn_shift_.data()},
  };
}

Status State::Save(const std::string& path) const { return SaveTorchPth(path, Views()); }

Result<std::string> State::Serialize() const { return TorchPthBytes(Views(), "state.pth"); }

Result<State> State::Load(const std::string& path, const ModelConfig& config) {
  ANSER_ASSIGN_OR_RETURN(TensorStore store, LoadTorchPth(path));
  return FromStore(store, path, config);
}

Result<State> State::Deserialize(std::string bytes, const ModelConfig& config) {
  const std::string name = "the uploaded state";
  ANSER_ASSIGN_OR_RETURN(TensorStore store, LoadTorchPthBytes(std::make_shared<const std::string>(std::move(bytes)), name));
  return FromStore(store, name, config);
}

Result<State> State::FromStore(const TensorStore& store, const std::string& source, const ModelConfig& c) {
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
      return Status::Error("[state] '" + source + "' has no '" + name + "' tensor: not an Anser state file");
    }
    if (t->dtype != DType::kF32 || t->shape != expected.shape) {
      return Status::Error("[state] '" + source + "': '" + name + "' is " + std::string(DTypeName(t->dtype)) +
                           " " + t->ShapeString() + ", but this model needs f32 " + expected.ShapeString());
    }
    std::memcpy(dst->data(), t->data, t->nbytes());
  }
  return s;
}

bool State::AllFinite() const {
  for (const std::vector<float>* part : {&att_shift_, &wkv_, &ffn_shift_}) {
    for (float v : *part) {
      if (!std::isfinite(v)) return false;
    }
  }
  return true;
}

int64_t State::bytes() const {
  return static_cast<int64_t>((att_shift_.size() + wkv_.size() + ffn_shift_.size()) * sizeof(float));
}

}  // namespace anser
