// Writing a model's weights in another format or stored type: GGUF (llama.cpp's `rwkv7`
// architecture), official `.pth`, or a Hugging Face (fla-hub) folder. Tensors are converted
// one row at a time while they are written, so no second copy of the weights is held.
#pragma once

#include <cstddef>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "anser/model.h"
#include "anser/status.h"
#include "anser/tokenizer.h"
#include "core/dtype.h"
#include "io/gguf.h"
#include "io/tensor_source.h"
#include "kernels/kernels.h"
#include "model/ggml_target.h"
#include "model/tensor_plan.h"

namespace anser {

enum class ModelFormat { kGguf, kPth, kHfFolder };

// By the output path: `*.gguf`, `*.pth`, otherwise a folder.
ModelFormat FormatForPath(const std::string& path);

// "f32", "f16", "bf16", "q8_0", "q5_0", "q4_0", "q4_1".
std::optional<DType> ParseConvertDType(std::string_view name);

struct ConvertOptions {
  // Target type; nullopt keeps every tensor's stored type (`anser convert`).
  std::optional<DType> dtype;
  // With a block-quantized target, what the tensors outside the projections become. Chosen by
  // measurement (docs/FORMATS.md): the embedding, read one row per token, costs nothing to keep
  // in f16; the head at the target's 4/5 bits costs more than all projections together, but at
  // q8_0 little, while it is a third of what a World model streams per token.
  // nullopt = the target type itself.
  std::optional<DType> embedding_dtype = DType::kF16;
  std::optional<DType> head_dtype = DType::kQ8_0;
  DType lora_dtype = DType::kF16;
  // GGUF only: a GGML type or mix Anser writes but runs only after converting it at load; when
  // set it replaces `dtype` and the three choices above (the LoRA matrices keep their stored
  // type, as llama-quantize leaves them).
  std::optional<GgmlTarget> ggml_target;
  // With ggml_target: each column's importance by GGUF tensor name (Imatrix::Importance), for
  // the matrices it names; null or a missing name weighs columns alike.
  const std::map<std::string, std::vector<float>>* importance = nullptr;
  // Called for each matrix whose rows do not fit the target's blocks, with what it became.
  std::function<void(const std::string& message)> notice;
  // GGUF only: the vocabulary to embed (tokenizer.ggml.*); null writes placeholders.
  const Tokenizer* tokenizer = nullptr;
  std::string name;  // GGUF general.name; empty leaves it out
  // GGUF only: write a packed file for this table (model/packed_gguf.h): the projections and the
  // head that load as a block type it packs hold the bytes its `pack` leaves; the other tensors
  // (and those of types converted at load) are as in the standard file. Null: the standard file.
  const CpuKernels* pack_for = nullptr;
  // Called after each tensor is written.
  std::function<void(size_t done, size_t total)> progress;
};

// The type a tensor of `role` (rows of `cols` elements, stored as `stored`) is written as.
// Block types apply only to rows whose length is a multiple of 32 (others fall back to f16).
// GGUF vectors are always f32, as llama.cpp's converter writes them and its graph requires.
DType ChooseDType(TensorRole role, int64_t cols, DType stored, const ConvertOptions& options, ModelFormat format);

// Writes `model`'s weights to `path` in the format FormatForPath gives (a folder is created
// if missing; config.json and model.safetensors inside are replaced). Files are written to a
// temporary name and renamed. Quantized types are written as GGUF only: anything else is an
// error before a byte is written. The model is loaded with WeightLayout::kStored.
Status SaveModel(const Model& model, const std::string& path, const ConvertOptions& options);

// GGUF metadata of llama.cpp's `rwkv7` architecture for `config`, with general.file_type from
// `file_type` and the tokenizer keys (see AddRwkvVocab).
GgufMetadata Rwkv7Metadata(const ModelConfig& config, DType file_type, const Tokenizer* tokenizer,
                           const std::string& name);

// tokenizer.ggml.model "rwkv", .tokens, .token_type and the special ids, as llama.cpp's
// converter writes them for the World vocabulary: id 0 is "<s>" (control, bos = eos = 0), ids
// with bytes are normal tokens in EscapeRwkvToken form, ids without are "[PAD<id>]" (unused).
// Without a tokenizer, a 256-token model gets its bytes and any other model placeholders.
void AddRwkvVocab(const Tokenizer* tokenizer, int n_vocab, GgufMetadata* metadata);

// A token's bytes as llama.cpp stores them for the "rwkv" tokenizer: Python's repr() of the
// bytes object without the b'' around it (\t \n \r \\, \xhh for other bytes outside 0x20–0x7e,
// the quote character escaped when it is the one repr() chose).
std::string EscapeRwkvToken(std::string_view bytes);

}  // namespace anser
