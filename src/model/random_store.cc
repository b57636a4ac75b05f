#include "model/random_store.h"

#include <cmath>
#include <optional>

#include "kernels/ggml_dequant.h"
#include "kernels/ggml_quantize.h"
#include "kernels/quantize.h"
#include "model/convert.h"
#include "model/variant.h"

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

// How values are drawn: uniform in [offset − scale, offset + scale).
struct Draw {
  float offset = 0.0f;
  float scale = 0.0f;
};

class Filler {
 public:
  Filler(TensorStore& store, DType dtype, std::optional<GgmlTarget> target, uint64_t seed)
      : store_(store), dtype_(dtype), target_(std::move(target)), rng_(seed) {}

  // A tensor of random values, stored as a file of the chosen type would store it: every tensor
  // in that type for float types; for block types, the types `anser quantize` gives each role;
  // for the llama.cpp types, those of `quantize --dtype`, converted as loading the file would.
  void Add(const std::string& name, std::vector<int64_t> shape, TensorRole role, Draw draw) {
    TensorView v;
    v.name = name;
    v.shape = std::move(shape);
    const int64_t cols = v.shape.back();
    StoredType type{std::nullopt, dtype_};
    if (target_) {
      type = GgmlTypeForRole(role, cols, DType::kBF16, *target_);
    } else if (DTypeIsBlock(dtype_)) {
      ConvertOptions options;
      options.dtype = dtype_;
      type.dtype = ChooseDType(role, cols, DType::kF32, options, ModelFormat::kGguf);
    }
    v.dtype = type.ggml ? GgmlRunAs(*type.ggml) : type.dtype;
    const int64_t rows = v.numel() / cols;
    const size_t row_bytes = DTypeRowBytes(v.dtype, cols);
    auto* data = static_cast<uint8_t*>(store_.Allocate(v.nbytes()));
    row_.resize(static_cast<size_t>(cols));
    if (type.ggml) {
      const GgmlBlock block = *GgmlDequantBlock(*type.ggml);
      stored_.resize(static_cast<size_t>(cols / block.elems) * block.bytes);
    }
    for (int64_t r = 0; r < rows; ++r) {
      for (float& x : row_) x = draw.offset + draw.scale * rng_.Uniform();
      uint8_t* out = data + static_cast<size_t>(r) * row_bytes;
      if (type.ggml) {
        QuantizeGgmlRow(*type.ggml, row_.data(), cols, nullptr, stored_.data());
        ConvertGgmlRow(*type.ggml, stored_.data(), cols, row_.data(), out);  // row_ is spent: scratch
      } else {
        QuantizeRow(v.dtype, row_.data(), cols, out);
      }
    }
    v.data = data;
    store_.Add(std::move(v));
  }

 private:
  TensorStore& store_;
  DType dtype_;
  std::optional<GgmlTarget> target_;
  Rng rng_;
  std::vector<float> row_;
  std::vector<uint8_t> stored_;  // a row as the llama.cpp type stores it
};

}  // namespace

Result<TensorStore> RandomStore(const ModelConfig& c, const std::string& dtype, uint64_t seed) {
  const std::optional<DType> dtype_id = ParseConvertDType(dtype);
  const std::optional<GgmlTarget> target = dtype_id ? std::nullopt : ParseGgmlTarget(dtype);
  if (!dtype_id && !target) {
    return Status::Error("unsupported dtype '" + dtype + "' for random weights: use f32, f16, bf16, q8_0, q5_0, q4_0, q4_1, " +
                         GgmlTargetNames());
  }
  if (c.n_layer <= 0 || c.n_embd <= 0 || c.n_head <= 0 || c.n_head * c.head_size != c.n_embd ||
      c.n_ffn <= 0 || c.n_vocab <= 0) {
    return Status::Error("invalid model configuration for random weights");
  }
  TensorStore store("random weights");
  Filler fill(store, dtype_id.value_or(DType::kBF16), target, seed);
  const int64_t C = c.n_embd, F = c.n_ffn, V = c.n_vocab;
  const auto scaled = [](float s) { return Draw{0.0f, s}; };
  const auto constant = [](float k) { return Draw{k, 0.0f}; };
  const Draw unit{0.5f, 0.5f};
  const float inv_sqrt_c = 1.0f / std::sqrt(static_cast<float>(C));
  const std::vector<int64_t> vec{1, 1, C};
  const TensorRole kVec = TensorRole::kVector;
  fill.Add("emb.weight", {V, C}, TensorRole::kEmbedding, scaled(1.0f));
  fill.Add("blocks.0.ln0.weight", {C}, kVec, constant(1.0f));
  fill.Add("blocks.0.ln0.bias", {C}, kVec, constant(0.0f));
  for (int l = 0; l < c.n_layer; ++l) {
    const std::string p = "blocks." + std::to_string(l) + ".";
    for (const char* n : {"ln1", "ln2"}) {
      fill.Add(p + n + ".weight", {C}, kVec, constant(1.0f));
      fill.Add(p + n + ".bias", {C}, kVec, constant(0.0f));
    }
    for (const char* n : {"x_r", "x_w", "x_k", "x_v", "x_a", "x_g"}) fill.Add(p + "att." + n, vec, kVec, unit);
    fill.Add(p + "att.w0", vec, kVec, Draw{-3.0f, 2.0f});
    fill.Add(p + "att.a0", vec, kVec, scaled(0.5f));
    fill.Add(p + "att.v0", vec, kVec, scaled(0.5f));
    const LoraRanks& rk = c.lora_ranks;
    const std::pair<const char*, int> loras[] = {{"w", rk.w}, {"a", rk.a}, {"v", rk.v}, {"g", rk.g}};
    for (const auto& [n, rank] : loras) {
      fill.Add(p + "att." + n + "1", {C, rank}, TensorRole::kLora, scaled(inv_sqrt_c));
      fill.Add(p + "att." + n + "2", {rank, C}, TensorRole::kLora, scaled(0.1f));
    }
    fill.Add(p + "att.k_k", vec, kVec, constant(0.85f));
    fill.Add(p + "att.k_a", vec, kVec, constant(1.0f));
    fill.Add(p + "att.r_k", {c.n_head, c.head_size}, kVec, scaled(0.1f));
    for (const char* n : {"receptance", "key", "value", "output"}) {
      fill.Add(p + "att." + n + ".weight", {C, C}, TensorRole::kProjection, scaled(inv_sqrt_c));
    }
    fill.Add(p + "att.ln_x.weight", {C}, kVec, constant(1.0f));
    fill.Add(p + "att.ln_x.bias", {C}, kVec, constant(0.0f));
    fill.Add(p + "ffn.x_k", vec, kVec, unit);
    fill.Add(p + "ffn.key.weight", {F, C}, TensorRole::kProjection, scaled(inv_sqrt_c));
    fill.Add(p + "ffn.value.weight", {C, F}, TensorRole::kProjection,
             scaled(1.0f / std::sqrt(static_cast<float>(F))));
  }
  fill.Add("ln_out.weight", {C}, kVec, constant(1.0f));
  fill.Add("ln_out.bias", {C}, kVec, constant(0.0f));
  fill.Add("head.weight", {V, C}, TensorRole::kHead, scaled(inv_sqrt_c));
  for (const SwitchTensor& s : VariantTensors(c.variant)) {
    auto* value = static_cast<float*>(store.Allocate(sizeof(float)));
    *value = s.value;
    store.Add({s.name, DType::kF32, {1}, value});
  }
  return store;
}

}  // namespace anser
