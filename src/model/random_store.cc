#include "model/random_store.h"

#include <cmath>
#include <functional>

namespace anser {
namespace {

// xorshift64*: fast and deterministic across platforms (std distributions are not).
class Rng {
 public:
  explicit Rng(uint64_t seed) : s_(seed * 0x9E3779B97F4A7C15ull + 1) {}
  float Uniform() {  // [-1, 1)
    s_ ^= s_ >> 12, s_ ^= s_ << 25, s_ ^= s_ >> 27;
    return static_cast<float>((s_ * 0x2545F4914F6CDD1Dull) >> 40) * (2.0f / 16777216.0f) - 1.0f;
  }

 private:
  uint64_t s_;
};

class Filler {
 public:
  Filler(TensorStore& store, DType dtype, uint64_t seed)
      : store_(store), dtype_(dtype), rng_(seed) {}

  // A tensor of values drawn from f, stored in the chosen type (as official files store all).
  void Add(const std::string& name, std::vector<int64_t> shape, const std::function<float(Rng&)>& f) {
    TensorView v;
    v.name = name;
    v.shape = std::move(shape);
    v.dtype = dtype_;
    const int64_t n = v.numel();
    void* data = store_.Allocate(v.nbytes());
    for (int64_t i = 0; i < n; ++i) {
      const float x = f(rng_);
      switch (v.dtype) {
        case DType::kF16: static_cast<uint16_t*>(data)[i] = F32ToF16(x); break;
        case DType::kBF16: static_cast<uint16_t*>(data)[i] = F32ToBf16(x); break;
        default: static_cast<float*>(data)[i] = x; break;
      }
    }
    v.data = data;
    store_.Add(std::move(v));
  }

 private:
  TensorStore& store_;
  DType dtype_;
  Rng rng_;
};

}  // namespace

Result<TensorStore> RandomStore(const ModelConfig& c, const std::string& dtype, uint64_t seed) {
  DType dtype_id;
  if (dtype == "f32") {
    dtype_id = DType::kF32;
  } else if (dtype == "f16") {
    dtype_id = DType::kF16;
  } else if (dtype == "bf16") {
    dtype_id = DType::kBF16;
  } else {
    return Status::Error("unsupported dtype '" + dtype + "' for random weights: use f32, f16 or bf16");
  }
  if (c.n_layer <= 0 || c.n_embd <= 0 || c.n_head <= 0 || c.n_head * c.head_size != c.n_embd ||
      c.n_ffn <= 0 || c.n_vocab <= 0) {
    return Status::Error("invalid model configuration for random weights");
  }
  TensorStore store("random weights");
  Filler fill(store, dtype_id, seed);
  const int64_t C = c.n_embd, F = c.n_ffn, V = c.n_vocab;
  const auto scaled = [](float s) { return [s](Rng& r) { return s * r.Uniform(); }; };
  const auto constant = [](float k) { return [k](Rng&) { return k; }; };
  const auto unit = [](Rng& r) { return 0.5f + 0.5f * r.Uniform(); };
  const std::vector<int64_t> vec{1, 1, C};
  fill.Add("emb.weight", {V, C}, scaled(1.0f));
  fill.Add("blocks.0.ln0.weight", {C}, constant(1.0f));
  fill.Add("blocks.0.ln0.bias", {C}, constant(0.0f));
  for (int l = 0; l < c.n_layer; ++l) {
    const std::string p = "blocks." + std::to_string(l) + ".";
    for (const char* n : {"ln1", "ln2"}) {
      fill.Add(p + n + ".weight", {C}, constant(1.0f));
      fill.Add(p + n + ".bias", {C}, constant(0.0f));
    }
    for (const char* n : {"x_r", "x_w", "x_k", "x_v", "x_a", "x_g"}) fill.Add(p + "att." + n, vec, unit);
    fill.Add(p + "att.w0", vec, [](Rng& r) { return -3.0f + 2.0f * r.Uniform(); });
    fill.Add(p + "att.a0", vec, scaled(0.5f));
    fill.Add(p + "att.v0", vec, scaled(0.5f));
    const LoraRanks& rk = c.lora_ranks;
    const std::pair<const char*, int> loras[] = {{"w", rk.w}, {"a", rk.a}, {"v", rk.v}, {"g", rk.g}};
    for (const auto& [n, rank] : loras) {
      fill.Add(p + "att." + n + "1", {C, rank}, scaled(1.0f / std::sqrt(static_cast<float>(C))));
      fill.Add(p + "att." + n + "2", {rank, C}, scaled(0.1f));
    }
    fill.Add(p + "att.k_k", vec, constant(0.85f));
    fill.Add(p + "att.k_a", vec, constant(1.0f));
    fill.Add(p + "att.r_k", {c.n_head, c.head_size}, scaled(0.1f));
    const float proj = 1.0f / std::sqrt(static_cast<float>(C));
    for (const char* n : {"receptance", "key", "value", "output"}) {
      fill.Add(p + "att." + n + ".weight", {C, C}, scaled(proj));
    }
    fill.Add(p + "att.ln_x.weight", {C}, constant(1.0f));
    fill.Add(p + "att.ln_x.bias", {C}, constant(0.0f));
    fill.Add(p + "ffn.x_k", vec, unit);
    fill.Add(p + "ffn.key.weight", {F, C}, scaled(proj));
    fill.Add(p + "ffn.value.weight", {C, F}, scaled(1.0f / std::sqrt(static_cast<float>(F))));
  }
  fill.Add("ln_out.weight", {C}, constant(1.0f));
  fill.Add("ln_out.bias", {C}, constant(0.0f));
  fill.Add("head.weight", {V, C}, scaled(1.0f / std::sqrt(static_cast<float>(C))));
  return store;
}

}  // namespace anser
