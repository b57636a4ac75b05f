// llama.cpp `rwkv7` GGUF tensors ↔ official `.pth` names. What llama.cpp's converter does to
// an RWKV-7 checkpoint, and what is undone here:
// - names: blk.N.time_mix_* / channel_mix_* / attn_norm(_2), token_embd(_norm), output(_norm);
// - the six token-shift lerps x_r,x_w,x_k,x_v,x_a,x_g stacked into time_mix_lerp_fused
//   (ne {C,1,1,6}, i.e. PyTorch (6,1,1,C));
// - LoRA matrices stored as nn.Linear weights: time_mix_w1 is w1ᵀ (rank, C), time_mix_w2 is
//   w2ᵀ (C, rank), likewise a, v, g;
// - vectors squeezed to (C), r_k flattened from (n_head, head_size) to (C);
// - layer 0 carries v0/v1/v2 copied from a0/a1/a2, only so the loader finds them (unused).
// No value is rescaled or offset.
#include <cstring>
#include <string_view>

#include "kernels/quantize.h"
#include "model/packed_gguf.h"
#include "model/weights.h"

namespace anser {
namespace {

constexpr const char* kLerpOrder[6] = {"x_r", "x_w", "x_k", "x_v", "x_a", "x_g"};

// GGUF suffix ↔ official suffix within a layer, for tensors that only change name and shape.
struct Renaming {
  const char* gguf;
  const char* official;
  TensorRole role;
};
constexpr Renaming kLayerRenames[] = {
    {"attn_norm.weight", "ln1.weight", TensorRole::kVector},
    {"attn_norm.bias", "ln1.bias", TensorRole::kVector},
    {"attn_norm_2.weight", "ln2.weight", TensorRole::kVector},
    {"attn_norm_2.bias", "ln2.bias", TensorRole::kVector},
    {"time_mix_w0.weight", "att.w0", TensorRole::kVector},
    {"time_mix_a0.weight", "att.a0", TensorRole::kVector},
    {"time_mix_v0.weight", "att.v0", TensorRole::kVector},
    {"time_mix_k_k.weight", "att.k_k", TensorRole::kVector},
    {"time_mix_k_a.weight", "att.k_a", TensorRole::kVector},
    {"time_mix_r_k.weight", "att.r_k", TensorRole::kVector},
    {"time_mix_ln.weight", "att.ln_x.weight", TensorRole::kVector},
    {"time_mix_ln.bias", "att.ln_x.bias", TensorRole::kVector},
    {"channel_mix_lerp_k.weight", "ffn.x_k", TensorRole::kVector},
    {"time_mix_receptance.weight", "att.receptance.weight", TensorRole::kProjection},
    {"time_mix_key.weight", "att.key.weight", TensorRole::kProjection},
    {"time_mix_value.weight", "att.value.weight", TensorRole::kProjection},
    {"time_mix_output.weight", "att.output.weight", TensorRole::kProjection},
    {"channel_mix_key.weight", "ffn.key.weight", TensorRole::kProjection},
    {"channel_mix_value.weight", "ffn.value.weight", TensorRole::kProjection},
};
constexpr Renaming kLoraRenames[] = {
    {"time_mix_w1.weight", "att.w1", TensorRole::kLora}, {"time_mix_w2.weight", "att.w2", TensorRole::kLora},
    {"time_mix_a1.weight", "att.a1", TensorRole::kLora}, {"time_mix_a2.weight", "att.a2", TensorRole::kLora},
    {"time_mix_v1.weight", "att.v1", TensorRole::kLora}, {"time_mix_v2.weight", "att.v2", TensorRole::kLora},
    {"time_mix_g1.weight", "att.g1", TensorRole::kLora}, {"time_mix_g2.weight", "att.g2", TensorRole::kLora},
};
constexpr Renaming kGlobalRenames[] = {
    {"token_embd.weight", "emb.weight", TensorRole::kEmbedding},
    {"token_embd_norm.weight", "blocks.0.ln0.weight", TensorRole::kVector},
    {"token_embd_norm.bias", "blocks.0.ln0.bias", TensorRole::kVector},
    {"output_norm.weight", "ln_out.weight", TensorRole::kVector},
    {"output_norm.bias", "ln_out.bias", TensorRole::kVector},
    {"output.weight", "head.weight", TensorRole::kHead},
};

// Converts `t` to float32 in a buffer `store` owns (block types cannot be reshaped or
// transposed in place).
float* ToF32(const TensorView& t, TensorStore& store) {
  const int64_t n = t.numel();
  auto* out = static_cast<float*>(store.Allocate(static_cast<size_t>(n) * sizeof(float)));
  const int64_t cols = t.shape.empty() ? 1 : t.shape.back();
  const int64_t rows = cols == 0 ? 0 : n / cols;
  const size_t row_bytes = DTypeRowBytes(t.dtype, cols);
  for (int64_t r = 0; r < rows; ++r) {
    DequantizeRow(t.dtype, static_cast<const uint8_t*>(t.data) + static_cast<size_t>(r) * row_bytes, cols,
                  out + r * cols);
  }
  return out;
}

// The same elements under another shape. Float types are viewed in place; a block type whose
// row length would change is converted to float32.
TensorView Reshape(const TensorView& t, std::vector<int64_t> shape, TensorStore& store) {
  TensorView v = t;
  if (DTypeIsBlock(t.dtype) && shape.back() != t.shape.back()) {
    v.data = ToF32(t, store);
    v.dtype = DType::kF32;
  }
  v.shape = std::move(shape);
  return v;
}

TensorView Transpose(const TensorView& t, TensorStore& store) {
  TensorView v = t;
  const int64_t rows = t.shape[0], cols = t.shape[1];
  v.shape = {cols, rows};
  const void* src = t.data;
  if (DTypeIsBlock(t.dtype)) {
    src = ToF32(t, store);
    v.dtype = DType::kF32;
  }
  const size_t es = DTypeSize(v.dtype);
  auto* dst = static_cast<uint8_t*>(store.Allocate(static_cast<size_t>(rows * cols) * es));
  const auto* s = static_cast<const uint8_t*>(src);
  for (int64_t i = 0; i < rows; ++i) {
    for (int64_t j = 0; j < cols; ++j) {
      std::memcpy(dst + static_cast<size_t>(j * rows + i) * es, s + static_cast<size_t>(i * cols + j) * es, es);
    }
  }
  v.data = dst;
  return v;
}

// "blk.<digits>.<rest>" → (layer, rest); layer -1 when the name has another form.
std::pair<int, std::string> SplitLayer(const std::string& name) {
  constexpr std::string_view kBlk = "blk.";
  if (name.rfind(kBlk, 0) != 0) return {-1, name};
  const size_t dot = name.find('.', kBlk.size());
  if (dot == std::string::npos) return {-1, name};
  const std::string num = name.substr(kBlk.size(), dot - kBlk.size());
  if (num.empty() || num.size() > 6 || num.find_first_not_of("0123456789") != std::string::npos) return {-1, name};
  return {std::stoi(num), name.substr(dot + 1)};
}

Status Mismatch(const TensorView& t, const std::string& expected, const std::string& source) {
  return Status::Error("[gguf] tensor '" + t.name + "': expected " + expected + ", got " + t.ShapeString() + " in " +
                       source);
}

Result<int64_t> HeadSize(const GgufMetadata& m, const std::string& source) {
  const GgufValue* arch = m.Find("general.architecture");
  if (arch == nullptr || arch->type != GgufType::kString) {
    return Status::Error("[gguf] " + source + " has no general.architecture");
  }
  // A packed file keeps rwkv7's keys: only its architecture and tensor bytes differ.
  if (arch->s != "rwkv7" && arch->s != kPackedArchitecture) {
    return Status::Error("[gguf] " + source + " is a '" + arch->s +
                         "' model; Anser runs RWKV-7 x070 models (architecture 'rwkv7') only");
  }
  if (const GgufValue* shift = m.Find("rwkv7.token_shift_count")) {
    if (shift->AsInt() != 2) return Status::Error("[gguf] " + source + ": rwkv7.token_shift_count is not 2");
  }
  const GgufValue* hs = m.Find("rwkv7.wkv.head_size");
  const std::optional<int64_t> n = hs == nullptr ? std::nullopt : hs->AsInt();
  if (!n || *n <= 0 || *n > (int64_t{1} << 20)) {
    return Status::Error("[gguf] " + source + " lacks a valid rwkv7.wkv.head_size");
  }
  return *n;
}

}  // namespace

Result<TensorStore> GgufToOfficial(GgufFile gguf) {
  const std::string source = gguf.tensors.source();
  ANSER_ASSIGN_OR_RETURN(const int64_t head_size, HeadSize(gguf.metadata, source));
  ANSER_RETURN_IF_ERROR(ReadPackedLayout(&gguf));
  auto in = std::make_shared<TensorStore>(std::move(gguf.tensors));
  TensorStore out(source);
  out.KeepStore(in);
  for (const TensorView& t : in->tensors()) {
    const int64_t C = t.shape.empty() ? 0 : t.shape.back();
    const auto [layer, rest] = SplitLayer(t.name);
    bool done = false;
    if (layer < 0) {
      for (const Renaming& r : kGlobalRenames) {
        if (t.name != r.gguf) continue;
        TensorView v = r.role == TensorRole::kVector ? Reshape(t, {C}, out) : t;
        v.name = r.official;
        out.Add(std::move(v));
        done = true;
      }
    } else {
      const std::string p = "blocks." + std::to_string(layer) + ".";
      if (rest == "time_mix_lerp_fused.weight") {
        if (t.numel() != 6 * C) return Mismatch(t, "(6, 1, 1, n_embd)", source);
        TensorView rows = Reshape(t, {6, C}, out);
        const size_t row_bytes = DTypeRowBytes(rows.dtype, C);
        for (int i = 0; i < 6; ++i) {
          TensorView v = rows;
          v.name = p + "att." + kLerpOrder[i];
          v.shape = {1, 1, C};
          v.data = static_cast<const uint8_t*>(rows.data) + static_cast<size_t>(i) * row_bytes;
          out.Add(std::move(v));
        }
        done = true;
      }
      // llama.cpp's converter writes layer 0's v0/v1/v2 as copies of a0/a1/a2 (the loader
      // requires them); the official layout has none there, and their rank may differ.
      const bool layer0_v = layer == 0 && (rest == "time_mix_v0.weight" || rest == "time_mix_v1.weight" ||
                                           rest == "time_mix_v2.weight");
      if (layer0_v) done = true;
      for (const Renaming& r : kLayerRenames) {
        if (done || rest != r.gguf) continue;
        TensorView v;
        if (rest == "time_mix_r_k.weight") {
          if (t.numel() % head_size != 0) return Mismatch(t, "(n_head · head_size) values", source);
          v = Reshape(t, {t.numel() / head_size, head_size}, out);
        } else if (r.role == TensorRole::kVector) {
          if (t.numel() != C) return Mismatch(t, "a vector", source);
          // Official norms are (C); the other vectors (1, 1, C).
          const bool norm = std::string_view(r.official).find("ln") != std::string_view::npos;
          v = Reshape(t, norm ? std::vector<int64_t>{C} : std::vector<int64_t>{1, 1, C}, out);
        } else {
          v = t;
        }
        v.name = p + r.official;
        out.Add(std::move(v));
        done = true;
      }
      for (const Renaming& r : kLoraRenames) {
        if (done || rest != r.gguf) continue;
        if (t.shape.size() != 2) return Mismatch(t, "a 2-D matrix", source);
        TensorView v = Transpose(t, out);
        in->DropFilePages(t);  // only the copy is read from here on
        v.name = p + r.official;
        out.Add(std::move(v));
        done = true;
      }
    }
    if (!done) out.Add(t);  // validation names what it does not know
  }
  return out;
}

std::vector<TensorPlan> OfficialToGgufPlan(const ModelConfig& c) {
  const int64_t C = c.n_embd, V = c.n_vocab;
  std::vector<TensorPlan> plans;
  for (const Renaming& r : kGlobalRenames) {
    const bool matrix = r.role != TensorRole::kVector;
    plans.push_back({r.gguf, {r.official}, false, matrix ? std::vector<int64_t>{V, C} : std::vector<int64_t>{C},
                     r.role});
  }
  for (int l = 0; l < c.n_layer; ++l) {
    const std::string g = "blk." + std::to_string(l) + ".";
    const std::string p = "blocks." + std::to_string(l) + ".";
    // Layer 0 has no value residual: its placeholders copy the a LoRA, as llama.cpp's converter does.
    auto official = [&](const std::string& name) {
      if (l == 0 && name.size() == 6 && name.rfind("att.v", 0) == 0) return p + "att.a" + name.substr(5);
      return p + name;
    };
    TensorPlan lerp{g + "time_mix_lerp_fused.weight", {}, false, {6, 1, 1, C}, TensorRole::kVector};
    for (const char* x : kLerpOrder) lerp.parts.push_back(p + "att." + x);
    plans.push_back(std::move(lerp));
    for (const Renaming& r : kLayerRenames) {
      std::vector<int64_t> shape = {C};
      if (std::string_view(r.official) == "ffn.key.weight") shape = {c.n_ffn, C};
      else if (std::string_view(r.official) == "ffn.value.weight") shape = {C, c.n_ffn};
      else if (r.role == TensorRole::kProjection) shape = {C, C};
      plans.push_back({g + r.gguf, {official(r.official)}, false, shape, r.role});
    }
    for (const Renaming& r : kLoraRenames) {
      const char kind = r.official[4];  // att.<kind><1|2>
      const bool first = r.official[5] == '1';
      int rank = kind == 'w' ? c.lora_ranks.w : kind == 'a' ? c.lora_ranks.a : kind == 'v' ? c.lora_ranks.v
                                                                                          : c.lora_ranks.g;
      if (l == 0 && kind == 'v') rank = c.lora_ranks.a;
      // Official w1 is (C, rank) and w2 (rank, C); GGUF stores their transposes.
      std::vector<int64_t> shape = first ? std::vector<int64_t>{rank, C} : std::vector<int64_t>{C, rank};
      plans.push_back({g + r.gguf, {official(r.official)}, true, shape, TensorRole::kLora});
    }
  }
  return plans;
}

}  // namespace anser
