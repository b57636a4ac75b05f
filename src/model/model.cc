#include <sys/stat.h>

#include <cmath>

#include "anser/model.h"
#include "io/formats.h"
#include "model/random_store.h"
#include "model/variant.h"
#include "model/weights.h"

namespace anser {

int64_t CountParams(const ModelConfig& c) {
  const int64_t C = c.n_embd, F = c.n_ffn, V = c.n_vocab;
  const LoraRanks& r = c.lora_ranks;
  // Per layer: 2 LayerNorms (4C), 6 lerps, w0/a0/v0, k_k, k_a, r_k, ln_x (2C), ffn.x_k = 19C;
  // 4 C×C projections; the FFN (2·C·F); the four LoRA pairs.
  const int64_t per_layer = 19 * C + 4 * C * C + 2 * C * F + 2 * C * (r.w + r.a + r.v + r.g);
  return 2 * V * C + 4 * C + c.n_layer * per_layer;
}

Result<ModelConfig> OfficialShape(const std::string& name) {
  ModelConfig c;
  c.n_vocab = 65536;
  c.head_size = 64;
  if (name == "0.1b") {
    c.n_layer = 12, c.n_embd = 768, c.lora_ranks = {64, 64, 32, 128};
  } else if (name == "0.4b") {
    c.n_layer = 24, c.n_embd = 1024, c.lora_ranks = {64, 64, 32, 128};
  } else if (name == "1.5b") {
    c.n_layer = 24, c.n_embd = 2048, c.lora_ranks = {96, 96, 64, 256};
  } else if (name == "2.9b") {
    c.n_layer = 32, c.n_embd = 2560, c.lora_ranks = {96, 96, 64, 320};
  } else {
    return Status::Error("unknown shape '" + name + "': choose 0.1b, 0.4b, 1.5b or 2.9b");
  }
  c.n_head = c.n_embd / c.head_size;
  c.n_ffn = 4 * c.n_embd;
  return c;
}

class ModelBuilder {
 public:
  static Result<std::shared_ptr<const Model>> Make(
      TensorStore store, std::map<std::string, int> dtypes, WeightLayout layout,
      std::map<std::string, std::string> converted = {}) {
    std::shared_ptr<Model> m(new Model());
    m->source_ = store.source();
    m->dtype_counts_ = std::move(dtypes);
    m->converted_dtypes_ = std::move(converted);
    ANSER_ASSIGN_OR_RETURN(m->weights_, Weights::Build(std::move(store), layout));
    m->config_ = m->weights_->config();
    return std::shared_ptr<const Model>(std::move(m));
  }
};

namespace {

std::map<std::string, int> CountDTypes(const TensorStore& store) {
  std::map<std::string, int> counts;
  for (const TensorView& t : store.tensors()) ++counts[std::string(DTypeName(t.dtype))];
  return counts;
}

// A GGUF file's tensors by their stored types: those converted at load count under their GGML
// name, not as the type they became.
std::map<std::string, int> CountGgufDTypes(const GgufFile& gguf,
                                           std::map<std::string, std::string>* converted) {
  std::map<std::string, int> counts = CountDTypes(gguf.tensors);
  for (const auto& [name, tensor] : gguf.converted) {
    const std::string run_as(DTypeName(gguf.tensors.Find(name)->dtype));
    if (--counts[run_as] == 0) counts.erase(run_as);
    const std::string stored = GgmlTypeName(tensor.ggml_type);
    ++counts[stored];
    (*converted)[stored] = run_as;
  }
  return counts;
}

}  // namespace

Model::~Model() = default;

Result<std::shared_ptr<const Model>> Model::Load(const std::string& path, WeightLayout layout) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    return Status::Error("model '" + path + "' does not exist: pass a .pth file or a Hugging Face folder");
  }
  if (S_ISDIR(st.st_mode)) {
    ANSER_ASSIGN_OR_RETURN(TensorStore hf, LoadSafetensorsFolder(path));
    std::map<std::string, int> dtypes = CountDTypes(hf);
    ANSER_ASSIGN_OR_RETURN(TensorStore official, HfToOfficial(std::move(hf)));
    return ModelBuilder::Make(std::move(official), std::move(dtypes), layout);
  }
  if (path.size() > 5 && path.compare(path.size() - 5, 5, ".gguf") == 0) {
    ANSER_ASSIGN_OR_RETURN(GgufFile gguf, LoadGguf(path));
    std::map<std::string, std::string> converted;
    std::map<std::string, int> dtypes = CountGgufDTypes(gguf, &converted);
    ANSER_ASSIGN_OR_RETURN(TensorStore official, GgufToOfficial(std::move(gguf)));
    return ModelBuilder::Make(std::move(official), std::move(dtypes), layout, std::move(converted));
  }
  ANSER_ASSIGN_OR_RETURN(TensorStore store, LoadTorchPth(path));
  std::map<std::string, int> dtypes = CountDTypes(store);
  return ModelBuilder::Make(std::move(store), std::move(dtypes), layout);
}

Result<std::shared_ptr<const Model>> Model::Random(const ModelConfig& config, const std::string& dtype,
                                                   uint64_t seed, WeightLayout layout) {
  ANSER_ASSIGN_OR_RETURN(TensorStore store, RandomStore(config, dtype, seed));
  std::map<std::string, int> dtypes = CountDTypes(store);
  return ModelBuilder::Make(std::move(store), std::move(dtypes), layout);
}

int64_t Model::params() const {
  int64_t n = 0;
  for (const TensorView& t : weights_->store().tensors()) {
    if (!IsSwitchTensorName(t.name)) n += t.numel();
  }
  return n;
}

int64_t Model::weight_bytes() const {
  int64_t n = 0;
  for (const TensorView& t : weights_->store().tensors()) n += static_cast<int64_t>(t.nbytes());
  return n;
}

int64_t Model::weight_bytes_per_token() const {
  const TensorView* emb = weights_->store().Find("emb.weight");
  return weight_bytes() - static_cast<int64_t>(emb->nbytes()) +
         static_cast<int64_t>(DTypeRowBytes(emb->dtype, config_.n_embd));
}

}  // namespace anser
