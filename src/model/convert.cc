// SaveModel: plans the output tensors of a format from the official-named store, picks each
// one's stored type, and streams them to the format's writer, converting row by row.
#include "model/convert.h"

#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <system_error>

#include "core/check.h"
#include "core/thread_pool.h"
#include "core/mapped_file.h"
#include "io/formats.h"
#include "kernels/ggml_dequant.h"
#include "kernels/ggml_quantize.h"
#include "kernels/quantize.h"
#include "model/packed_gguf.h"
#include "model/variant.h"
#include "model/weights.h"

namespace anser {
namespace {

// llama.cpp's llama_ftype codes for general.file_type.
uint32_t LlamaFileType(DType dtype) {
  switch (dtype) {
    case DType::kF32: return 0;
    case DType::kF16: return 1;
    case DType::kQ4_0: return 2;
    case DType::kQ4_1: return 3;
    case DType::kQ8_0: return 7;
    case DType::kQ5_0: return 8;
    case DType::kBF16: return 32;
    default: return 0;
  }
}

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

TensorRole OfficialRole(const std::string& name) {
  if (name == "emb.weight") return TensorRole::kEmbedding;
  if (name == "head.weight") return TensorRole::kHead;
  for (const char* p : {"att.receptance.weight", "att.key.weight", "att.value.weight", "att.output.weight",
                        "ffn.key.weight", "ffn.value.weight"}) {
    if (EndsWith(name, p)) return TensorRole::kProjection;
  }
  const size_t att = name.rfind(".att.");
  if (att != std::string::npos && name.size() == att + 7 &&
      std::string_view("wavg").find(name[att + 5]) != std::string_view::npos &&
      (name[att + 6] == '1' || name[att + 6] == '2')) {
    return TensorRole::kLora;
  }
  return TensorRole::kVector;
}

// The official layout itself: every tensor as stored, under its own name.
std::vector<TensorPlan> PthPlan(const TensorStore& store) {
  std::vector<TensorPlan> plans;
  for (const TensorView& t : store.tensors()) plans.push_back({t.name, {t.name}, false, t.shape, OfficialRole(t.name)});
  return plans;
}

// The fla-hub layout (the inverse of HfToOfficial). Layer 0 has no v_lora there.
std::vector<TensorPlan> HfPlan(const ModelConfig& c) {
  const int64_t C = c.n_embd, V = c.n_vocab;
  std::vector<TensorPlan> plans = {
      {"model.embeddings.weight", {"emb.weight"}, false, {V, C}, TensorRole::kEmbedding},
      {"model.layers.0.pre_norm.weight", {"blocks.0.ln0.weight"}, false, {C}, TensorRole::kVector},
      {"model.layers.0.pre_norm.bias", {"blocks.0.ln0.bias"}, false, {C}, TensorRole::kVector},
  };
  for (int l = 0; l < c.n_layer; ++l) {
    const std::string h = "model.layers." + std::to_string(l) + ".";
    const std::string p = "blocks." + std::to_string(l) + ".";
    auto add = [&](const std::string& name, const std::string& official, std::vector<int64_t> shape, TensorRole role,
                   bool transpose = false) {
      plans.push_back({h + name, {p + official}, transpose, std::move(shape), role});
    };
    for (const char* n : {"weight", "bias"}) {
      add(std::string("attn_norm.") + n, std::string("ln1.") + n, {C}, TensorRole::kVector);
      add(std::string("ffn_norm.") + n, std::string("ln2.") + n, {C}, TensorRole::kVector);
      add(std::string("attn.g_norm.") + n, std::string("att.ln_x.") + n, {C}, TensorRole::kVector);
    }
    for (const char* x : {"x_r", "x_w", "x_k", "x_v", "x_a", "x_g"}) {
      add(std::string("attn.") + x, std::string("att.") + x, {1, 1, C}, TensorRole::kVector);
    }
    add("attn.k_k", "att.k_k", {C}, TensorRole::kVector);
    add("attn.k_a", "att.k_a", {C}, TensorRole::kVector);
    add("attn.r_k", "att.r_k", {c.n_head, c.head_size}, TensorRole::kVector);
    add("attn.r_proj.weight", "att.receptance.weight", {C, C}, TensorRole::kProjection);
    add("attn.k_proj.weight", "att.key.weight", {C, C}, TensorRole::kProjection);
    add("attn.v_proj.weight", "att.value.weight", {C, C}, TensorRole::kProjection);
    add("attn.o_proj.weight", "att.output.weight", {C, C}, TensorRole::kProjection);
    const std::pair<char, int> loras[] = {{'w', c.lora_ranks.w}, {'a', c.lora_ranks.a}, {'v', c.lora_ranks.v},
                                          {'g', c.lora_ranks.g}};
    for (const auto& [k, rank] : loras) {
      if (k == 'v' && l == 0) continue;
      const std::string lora = std::string("attn.") + k + "_lora.lora.";
      const std::string att = std::string("att.") + k;
      add(lora + "0.weight", att + "1", {rank, C}, TensorRole::kLora, true);
      add(lora + "2.weight", att + "2", {C, rank}, TensorRole::kLora, true);
      if (k != 'g') add(lora + "2.bias", att + "0", {C}, TensorRole::kVector);
    }
    add("ffn.x_k", "ffn.x_k", {C}, TensorRole::kVector);
    add("ffn.key.weight", "ffn.key.weight", {c.n_ffn, C}, TensorRole::kProjection);
    add("ffn.value.weight", "ffn.value.weight", {C, c.n_ffn}, TensorRole::kProjection);
  }
  plans.push_back({"model.norm.weight", {"ln_out.weight"}, false, {C}, TensorRole::kVector});
  plans.push_back({"model.norm.bias", {"ln_out.bias"}, false, {C}, TensorRole::kVector});
  plans.push_back({"lm_head.weight", {"head.weight"}, false, {V, C}, TensorRole::kHead});
  return plans;
}

nlohmann::json HfConfig(const ModelConfig& c, DType dtype) {
  const char* torch_dtype = dtype == DType::kBF16 ? "bfloat16" : dtype == DType::kF16 ? "float16" : "float32";
  return {
      {"architectures", {"RWKV7ForCausalLM"}},
      {"model_type", "rwkv7"},
      {"attn_mode", "chunk"},
      {"hidden_size", c.n_embd},
      {"hidden_ratio", static_cast<double>(c.n_ffn) / c.n_embd},
      {"intermediate_size", c.n_ffn},
      {"num_hidden_layers", c.n_layer},
      {"head_dim", c.head_size},
      {"num_heads", c.n_head},
      {"decay_low_rank_dim", c.lora_ranks.w},
      {"gate_low_rank_dim", c.lora_ranks.g},
      {"a_low_rank_dim", c.lora_ranks.a},
      {"v_low_rank_dim", c.lora_ranks.v},
      {"hidden_act", "sqrelu"},
      {"norm_first", true},
      {"norm_bias", true},
      {"norm_eps", 1e-5},
      {"value_dim", std::vector<int>(static_cast<size_t>(c.n_layer), c.n_embd)},
      {"tie_word_embeddings", false},
      {"vocab_size", c.n_vocab},
      {"torch_dtype", torch_dtype},
      {"bos_token_id", 0},
      {"eos_token_id", 0},
      {"use_cache", true},
      {"fuse_norm", true},
  };
}

// Streams one planned tensor as `dtype`: the parts' elements in order (each transposed first
// when planned), cut into rows of the output's last dimension. A lone part already stored as
// `dtype` in the same row layout is passed through byte for byte.
Status ProduceTensor(const TensorPlan& plan, const StoredType& type, const float* importance,
                     const std::vector<const TensorView*>& parts, const ByteSink& sink) {
  const int64_t cols = plan.shape.empty() ? 1 : plan.shape.back();
  const TensorView& first = *parts[0];
  const DType dtype = type.dtype;
  if (!type.ggml && parts.size() == 1 && !plan.transpose && first.dtype == dtype &&
      (!DTypeIsBlock(dtype) || first.shape.back() == cols)) {
    return sink(first.data, first.nbytes());
  }
  std::vector<float> pending;
  const std::optional<GgmlBlock> block = type.ggml ? GgmlDequantBlock(*type.ggml) : std::nullopt;
  const size_t row_bytes_out = block ? static_cast<size_t>(cols / block->elems) * block->bytes
                                      : DTypeRowBytes(dtype, cols);
  std::vector<uint8_t> rows_out;
  // Encodes the complete rows pending, on the kernel threads: the K-quants' rounding searches
  // make quantizing a large model take minutes on one. `flush` = also when only a few are
  // pending (the end of the tensor); otherwise rows wait until a batch is worth the threads.
  constexpr size_t kBatchRows = 64;
  auto emit = [&](bool flush) -> Status {
    const size_t n = cols > 0 ? pending.size() / static_cast<size_t>(cols) : 0;
    if (n == 0 || (!flush && n < kBatchRows)) return Status::Ok();
    rows_out.resize(n * row_bytes_out);
    KernelPool().ParallelFor(static_cast<int64_t>(n), 1, [&](int64_t begin, int64_t end) {
      for (int64_t r = begin; r < end; ++r) {
        const float* x = pending.data() + r * cols;
        uint8_t* out = rows_out.data() + static_cast<size_t>(r) * row_bytes_out;
        if (type.ggml) {
          QuantizeGgmlRow(*type.ggml, x, cols, importance, out);
        } else {
          QuantizeRow(dtype, x, cols, out);
        }
      }
    });
    ANSER_RETURN_IF_ERROR(sink(rows_out.data(), rows_out.size()));
    pending.erase(pending.begin(), pending.begin() + static_cast<std::ptrdiff_t>(n * static_cast<size_t>(cols)));
    return Status::Ok();
  };
  for (const TensorView* t : parts) {
    const int64_t pc = t->shape.empty() ? 1 : t->shape.back();
    const int64_t pr = pc == 0 ? 0 : t->numel() / pc;
    const size_t row_bytes = DTypeRowBytes(t->dtype, pc);
    const auto* bytes = static_cast<const uint8_t*>(t->data);
    if (plan.transpose) {
      std::vector<float> m(static_cast<size_t>(t->numel()));
      for (int64_t r = 0; r < pr; ++r) DequantizeRow(t->dtype, bytes + static_cast<size_t>(r) * row_bytes, pc, &m[static_cast<size_t>(r * pc)]);
      for (int64_t c = 0; c < pc; ++c) {
        for (int64_t r = 0; r < pr; ++r) pending.push_back(m[static_cast<size_t>(r * pc + c)]);
        ANSER_RETURN_IF_ERROR(emit(false));
      }
      continue;
    }
    for (int64_t r = 0; r < pr; ++r) {
      const size_t at = pending.size();
      pending.resize(at + static_cast<size_t>(pc));
      DequantizeRow(t->dtype, bytes + static_cast<size_t>(r) * row_bytes, pc, pending.data() + at);
      ANSER_RETURN_IF_ERROR(emit(false));
    }
  }
  return emit(true);
}

// GgmlTypeForRole, with a notice for each matrix that falls back.
StoredType ChooseGgmlType(const TensorPlan& plan, int64_t cols, DType stored, const GgmlTarget& target,
                          const std::function<void(const std::string&)>& notice) {
  const StoredType type = GgmlTypeForRole(plan.role, cols, stored, target);
  const uint32_t want = plan.role == TensorRole::kHead ? target.head.value_or(target.base) : target.base;
  const bool large = plan.role != TensorRole::kVector && plan.role != TensorRole::kLora;
  if (large && type.ggml != want && notice) {
    notice("tensor '" + plan.name + "' has rows of " + std::to_string(cols) + " elements, which " +
           GgmlTypeName(want) + "'s blocks do not divide: written as " + StoredTypeName(type) +
           " (as llama-quantize does)");
  }
  return type;
}

// Resolves a plan's parts in `store` and checks that they hold exactly the planned elements.
Result<std::vector<const TensorView*>> Parts(const TensorPlan& plan, const TensorStore& store) {
  std::vector<const TensorView*> parts;
  int64_t numel = 0;
  for (const std::string& name : plan.parts) {
    const TensorView* t = store.Find(name);
    if (t == nullptr) return Status::Error("[convert] tensor '" + name + "' (for '" + plan.name + "') is missing");
    if (plan.transpose && t->shape.size() != 2) {
      return Status::Error("[convert] tensor '" + name + "' " + t->ShapeString() + " is not a 2-D matrix");
    }
    numel += t->numel();
    parts.push_back(t);
  }
  TensorView want;
  want.shape = plan.shape;
  if (numel != want.numel()) {
    return Status::Error("[convert] tensor '" + plan.name + "' " + want.ShapeString() + " cannot be made from " +
                         std::to_string(numel) + " values");
  }
  return parts;
}

// The type a tensor written as `type` is read as in place (none: converted at load).
std::optional<DType> ReadAs(const StoredType& type) {
  return type.ggml ? DTypeFromGgml(*type.ggml) : type.dtype;
}

// Whether a planned tensor of `type` is one a table packs at load (a projection or the head read
// as a block type), and so one a packed file holds packed.
bool PackedAtLoad(const TensorPlan& plan, const StoredType& type) {
  const std::optional<DType> read_as = ReadAs(type);
  return (plan.role == TensorRole::kProjection || plan.role == TensorRole::kHead) && read_as &&
         PackedFileHolds(*read_as) && plan.shape.size() == 2;
}

// `produce`, with its bytes rearranged by `table`'s pack before they reach the sink (the whole
// tensor is held for it: one matrix at a time).
std::function<Status(const ByteSink&)> Packing(std::function<Status(const ByteSink&)> produce,
                                               const CpuKernels& table, const TensorPlan& plan,
                                               DType dtype, size_t nbytes) {
  return [produce = std::move(produce), &table, plan, dtype, nbytes](const ByteSink& sink) {
    std::vector<uint8_t> bytes;
    bytes.reserve(nbytes);
    ANSER_RETURN_IF_ERROR(produce([&bytes](const void* data, size_t n) {
      const auto* p = static_cast<const uint8_t*>(data);
      bytes.insert(bytes.end(), p, p + n);
      return Status::Ok();
    }));
    MatRef m{dtype, bytes.data(), plan.shape[0], plan.shape[1]};
    table.pack(m, bytes.data());
    return sink(bytes.data(), bytes.size());
  };
}

}  // namespace

ModelFormat FormatForPath(const std::string& path) {
  if (EndsWith(path, ".gguf")) return ModelFormat::kGguf;
  if (EndsWith(path, ".pth")) return ModelFormat::kPth;
  return ModelFormat::kHfFolder;
}

std::optional<DType> ParseConvertDType(std::string_view name) {
  for (DType d : {DType::kF32, DType::kF16, DType::kBF16, DType::kQ8_0, DType::kQ5_0, DType::kQ4_0, DType::kQ4_1}) {
    if (DTypeName(d) == name) return d;
  }
  return std::nullopt;
}

DType ChooseDType(TensorRole role, int64_t cols, DType stored, const ConvertOptions& options, ModelFormat format) {
  const bool gguf = format == ModelFormat::kGguf;
  if (gguf && role == TensorRole::kVector) return DType::kF32;
  DType d = options.dtype.value_or(stored);
  if (DTypeIsBlock(d)) {
    if (options.dtype) {  // quantizing: only the big matrices take the block type
      if (role == TensorRole::kEmbedding) d = options.embedding_dtype.value_or(d);
      if (role == TensorRole::kHead) d = options.head_dtype.value_or(d);
      if (role == TensorRole::kLora || role == TensorRole::kVector) d = options.lora_dtype;
    } else if (role == TensorRole::kLora || role == TensorRole::kVector) {
      d = DType::kF32;  // kept block-typed small tensors: their transposed rows need not fit blocks
    }
  }
  if (DTypeIsBlock(d) && cols % DTypeBlockElems(d) != 0) d = DType::kF16;
  return d;
}

GgufMetadata Rwkv7Metadata(const ModelConfig& c, DType file_type, const Tokenizer* tokenizer,
                           const std::string& name) {
  GgufMetadata m;
  auto u32 = [](int64_t v) { return GgufValue::U32(static_cast<uint32_t>(v)); };
  m.Set("general.architecture", GgufValue::String("rwkv7"));
  if (!name.empty()) m.Set("general.name", GgufValue::String(name));
  // llama.cpp's converter: "RWKV isn't context limited".
  m.Set("rwkv7.context_length", u32(1048576));
  m.Set("rwkv7.embedding_length", u32(c.n_embd));
  m.Set("rwkv7.block_count", u32(c.n_layer));
  m.Set("rwkv7.attention.layer_norm_epsilon", GgufValue::F32(1e-5f));
  m.Set("rwkv7.wkv.head_size", u32(c.head_size));
  m.Set("rwkv7.attention.decay_lora_rank", u32(c.lora_ranks.w));
  m.Set("rwkv7.attention.iclr_lora_rank", u32(c.lora_ranks.a));
  m.Set("rwkv7.attention.value_residual_mix_lora_rank", u32(c.lora_ranks.v));
  m.Set("rwkv7.attention.gate_lora_rank", u32(c.lora_ranks.g));
  m.Set("rwkv7.feed_forward_length", u32(c.n_ffn));
  m.Set("general.file_type", u32(LlamaFileType(file_type)));
  // Required by llama.cpp's loader, unused by its RWKV graphs.
  m.Set("rwkv7.attention.head_count", u32(0));
  m.Set("general.quantization_version", u32(2));
  AddRwkvVocab(tokenizer, c.n_vocab, &m);
  return m;
}

Status SaveModel(const Model& model, const std::string& path, const ConvertOptions& options) {
  ANSER_CHECK(!model.weights().packed(), "converting reads the tensors as stored: load with WeightLayout::kStored");
  const ModelFormat format = FormatForPath(path);
  if (options.pack_for != nullptr && format != ModelFormat::kGguf) {
    return Status::Error("[convert] packed files are GGUF only: name the output *.gguf");
  }
  if (options.pack_for != nullptr && PackedLayout(*options.pack_for) == MatLayout::kRows) {
    return Status::Error("[convert] the " + std::string(options.pack_for->name) +
                         " kernel table reads every matrix as stored: it has no packed layout");
  }
  std::vector<std::string> packed_names;
  const TensorStore& store = model.weights().store();
  const ModelConfig& config = model.config();
  std::vector<TensorPlan> plans = format == ModelFormat::kGguf  ? OfficialToGgufPlan(config)
                                  : format == ModelFormat::kPth ? PthPlan(store)
                                                                : HfPlan(config);
  // The model's switches travel with it (the official layout already lists every tensor).
  if (format != ModelFormat::kPth) {
    for (const SwitchTensor& t : VariantTensors(config.variant))
      plans.push_back({t.name, {t.name}, false, {1}, TensorRole::kVector});
  }
  std::vector<TensorSource> sources;
  std::vector<const TensorView*> unchanged;  // per source: the stored view it equals, if any
  DType file_type = DType::kF32;
  for (const TensorPlan& plan : plans) {
    ANSER_ASSIGN_OR_RETURN(std::vector<const TensorView*> parts, Parts(plan, store));
    const int64_t cols = plan.shape.empty() ? 1 : plan.shape.back();
    // Switch tensors stay float32 (model/variant.h), whatever the target type.
    StoredType type;
    if (IsSwitchTensorName(plan.name)) {
      type.dtype = DType::kF32;
    } else if (options.ggml_target && format == ModelFormat::kGguf) {
      type = ChooseGgmlType(plan, cols, parts[0]->dtype, *options.ggml_target, options.notice);
    } else {
      type.dtype = ChooseDType(plan.role, cols, parts[0]->dtype, options, format);
    }
    const DType dtype = type.dtype;
    if (format != ModelFormat::kGguf && DTypeIsBlock(dtype)) {
      return Status::Error("[convert] tensor '" + plan.name + "' would be " + std::string(DTypeName(dtype)) +
                           ": quantized types are written as GGUF only (name the output *.gguf)");
    }
    if (plan.role == TensorRole::kProjection) file_type = dtype;
    TensorSource s;
    s.name = plan.name;
    s.dtype = dtype;
    s.ggml_type = type.ggml;
    s.shape = plan.shape;
    const float* importance = nullptr;
    if (type.ggml && options.importance != nullptr) {
      const auto found = options.importance->find(plan.name);
      if (found != options.importance->end()) {
        if (static_cast<int64_t>(found->second.size()) != cols) {
          return Status::Error("[convert] the importance matrix has " + std::to_string(found->second.size()) +
                               " columns for '" + plan.name + "', whose rows have " + std::to_string(cols) +
                               ": it was collected on another model");
        }
        importance = found->second.data();
      }
    }
    s.produce = [plan, type, importance, parts](const ByteSink& sink) {
      return ProduceTensor(plan, type, importance, parts, sink);
    };
    if (options.pack_for != nullptr && PackedAtLoad(plan, type)) {
      s.produce = Packing(std::move(s.produce), *options.pack_for, plan, *ReadAs(type), s.nbytes());
      packed_names.push_back(plan.name);
    }
    sources.push_back(std::move(s));
    const bool same = !type.ggml && parts.size() == 1 && !plan.transpose && parts[0]->dtype == dtype &&
                      parts[0]->shape == plan.shape;
    unchanged.push_back(same ? parts[0] : nullptr);
  }

  if (options.pack_for != nullptr && packed_names.empty()) {
    return Status::Error("[convert] no projection would be stored as a block type that the " +
                         std::string(options.pack_for->name) +
                         " table packs: a packed file would be the standard one");
  }
  switch (format) {
    case ModelFormat::kGguf: {
      GgufMetadata metadata = Rwkv7Metadata(config, file_type, options.tokenizer, options.name);
      if (options.ggml_target) metadata.Set("general.file_type", GgufValue::U32(options.ggml_target->file_type));
      if (options.pack_for != nullptr) MarkPacked(*options.pack_for, packed_names, &metadata);
      return SaveGguf(path, metadata, sources, options.progress);
    }
    case ModelFormat::kPth: {
      // The torch writer takes views: tensors whose type changes are converted into memory
      // held while the archive is written; the others are the stored views themselves.
      TensorStore converted;
      std::vector<TensorView> views;
      for (size_t i = 0; i < sources.size(); ++i) {
        const TensorSource& s = sources[i];
        if (unchanged[i] != nullptr) {
          views.push_back({s.name, s.dtype, s.shape, unchanged[i]->data});
          continue;
        }
        auto* data = static_cast<uint8_t*>(converted.Allocate(s.nbytes()));
        size_t at = 0;
        ANSER_RETURN_IF_ERROR(s.produce([&](const void* bytes, size_t n) {
          std::memcpy(data + at, bytes, n);
          at += n;
          return Status::Ok();
        }));
        views.push_back({s.name, s.dtype, s.shape, data});
        if (options.progress) options.progress(i + 1, sources.size());
      }
      return SaveTorchPth(path, views);
    }
    case ModelFormat::kHfFolder: {
      std::error_code ec;
      std::filesystem::create_directories(path, ec);
      if (ec) return Status::Error("[convert] cannot create folder '" + path + "': " + ec.message());
      const std::string json = HfConfig(config, file_type).dump(2) + "\n";
      ANSER_RETURN_IF_ERROR(WriteFileAtomically((std::filesystem::path(path) / "config.json").string(), json.data(),
                                                json.size()));
      ANSER_RETURN_IF_ERROR(SaveSafetensors((std::filesystem::path(path) / "model.safetensors").string(), sources));
      if (options.progress) options.progress(sources.size(), sources.size());
      return Status::Ok();
    }
  }
  return Status::Ok();
}

}  // namespace anser
