// Hugging Face (fla-hub RWKV7) names → official `.pth` names. The LoRA matrices are stored
// transposed there (nn.Linear weights) and the LoRA biases are the official w0/a0/v0.
#include <cstring>
#include <regex>

#include "model/weights.h"

namespace anser {
namespace {

struct Renamed {
  std::string name;
  bool transpose = false;
};

Renamed OfficialName(const std::string& hf) {
  static const std::regex kLayer(R"(model\.layers\.(\d+)\.(.+))");
  if (hf == "model.embeddings.weight") return {"emb.weight"};
  if (hf == "lm_head.weight") return {"head.weight"};
  if (hf == "model.norm.weight") return {"ln_out.weight"};
  if (hf == "model.norm.bias") return {"ln_out.bias"};
  std::smatch m;
  if (!std::regex_match(hf, m, kLayer)) return {hf};
  const std::string p = "blocks." + m[1].str() + ".";
  const std::string rest = m[2].str();
  static const std::pair<const char*, const char*> kPlain[] = {
      {"pre_norm.", "ln0."},          {"attn_norm.", "ln1."},
      {"ffn_norm.", "ln2."},          {"attn.g_norm.", "att.ln_x."},
      {"attn.r_proj.", "att.receptance."}, {"attn.k_proj.", "att.key."},
      {"attn.v_proj.", "att.value."}, {"attn.o_proj.", "att.output."},
      {"attn.", "att."},              {"ffn.", "ffn."},
  };
  static const std::regex kLora(R"(attn\.([wavg])_lora\.lora\.(0\.weight|2\.weight|2\.bias))");
  if (std::regex_match(rest, m, kLora)) {
    const std::string which = m[1].str();
    const std::string part = m[2].str();
    if (part == "0.weight") return {p + "att." + which + "1", true};
    if (part == "2.weight") return {p + "att." + which + "2", true};
    return {p + "att." + which + "0"};
  }
  for (const auto& [from, to] : kPlain) {
    if (rest.rfind(from, 0) == 0) return {p + to + rest.substr(std::strlen(from))};
  }
  return {hf};
}

}  // namespace

Result<TensorStore> HfToOfficial(TensorStore hf) {
  auto source = std::make_shared<TensorStore>(std::move(hf));
  TensorStore out(source->source());
  out.KeepAlive(source);
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
