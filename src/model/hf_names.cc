// Hugging Face (fla-hub RWKV7) names → official `.pth` names. The LoRA matrices are stored
// transposed there (nn.Linear weights) and the LoRA biases are the official w0/a0/v0.
#include <cstring>
#include <string_view>

#include "model/weights.h"

namespace anser {
namespace {

struct Renamed {
  std::string name;
  bool transpose = false;
};

Renamed OfficialName(const std::string& hf) {
  if (hf == "model.embeddings.weight") return {"emb.weight"};
  if (hf == "lm_head.weight") return {"head.weight"};
  if (hf == "model.norm.weight") return {"ln_out.weight"};
  if (hf == "model.norm.bias") return {"ln_out.bias"};
  // model.layers.<digits>.<rest>
  constexpr std::string_view kLayers = "model.layers.";
  if (hf.rfind(kLayers, 0) != 0) return {hf};
  const size_t dot = hf.find('.', kLayers.size());
  const std::string num = hf.substr(kLayers.size(), dot == std::string::npos ? 0 : dot - kLayers.size());
  if (num.empty() || num.find_first_not_of("0123456789") != std::string::npos) return {hf};
  const std::string p = "blocks." + num + ".";
  const std::string rest = hf.substr(dot + 1);
  // attn.{w,a,v,g}_lora.lora.{0.weight, 2.weight, 2.bias}
  if (rest.size() > 17 && rest.rfind("attn.", 0) == 0 && rest.compare(6, 11, "_lora.lora.") == 0 &&
      std::string_view("wavg").find(rest[5]) != std::string_view::npos) {
    const std::string att = p + "att." + rest[5];
    const std::string part = rest.substr(17);
    if (part == "0.weight") return {att + "1", true};
    if (part == "2.weight") return {att + "2", true};
    if (part == "2.bias") return {att + "0"};
  }
  static const std::pair<const char*, const char*> kPlain[] = {
      {"pre_norm.", "ln0."},          {"attn_norm.", "ln1."},
      {"ffn_norm.", "ln2."},          {"attn.g_norm.", "att.ln_x."},
      {"attn.r_proj.", "att.receptance."}, {"attn.k_proj.", "att.key."},
      {"attn.v_proj.", "att.value."}, {"attn.o_proj.", "att.output."},
      {"attn.", "att."},              {"ffn.", "ffn."},
  };
  for (const auto& [from, to] : kPlain) {
    if (rest.rfind(from, 0) == 0) return {p + to + rest.substr(std::strlen(from))};
  }
  return {hf};
}

}  // namespace

Result<TensorStore> HfToOfficial(TensorStore hf) {
  auto source = std::make_shared<TensorStore>(std::move(hf));
  TensorStore out(source->source());
  out.KeepStore(source);
  for (const TensorView& t : source->tensors()) {
    const Renamed r = OfficialName(t.name);
    TensorView v = t;
    v.name = r.name;
    if (r.transpose) {
      if (t.shape.size() != 2) {
        return Status::Error("[hf] tensor '" + t.name + "': expected a 2-D matrix, got " +
                             t.ShapeString() + " in " + source->source());
      }
      const int64_t rows = t.shape[0], cols = t.shape[1];
      const size_t es = DTypeSize(t.dtype);
      auto* dst = static_cast<uint8_t*>(out.Allocate(t.nbytes()));
      const auto* src = static_cast<const uint8_t*>(t.data);
      for (int64_t i = 0; i < rows; ++i) {
        for (int64_t j = 0; j < cols; ++j) {
          std::memcpy(dst + static_cast<size_t>(j * rows + i) * es, src + static_cast<size_t>(i * cols + j) * es, es);
        }
      }
      v.data = dst;
      v.shape = {cols, rows};
    }
    out.Add(std::move(v));
  }
  return out;
}

}  // namespace anser
