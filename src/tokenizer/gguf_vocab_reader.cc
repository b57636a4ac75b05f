#include "tokenizer/gguf_vocab_reader.h"

#include "io/formats.h"
#include "io/gguf.h"

namespace anser {

std::string UnescapeRwkvToken(std::string_view text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '\\' || i + 1 == text.size()) {
      out += text[i];
      continue;
    }
    const char e = text[++i];
    if (e == 't') {
      out += '\t';
    } else if (e == 'n') {
      out += '\n';
    } else if (e == 'r') {
      out += '\r';
    } else if (e == 'x') {
      // An incomplete \x at the end is dropped, as llama.cpp's loader does.
      if (i + 2 >= text.size()) break;
      auto hex = [](char h) { return h >= 'a' ? h - 'a' + 10 : h >= 'A' ? h - 'A' + 10 : h - '0'; };
      out += static_cast<char>((hex(text[i + 1]) << 4) | hex(text[i + 2]));
      i += 2;
    } else {
      out += e;
    }
  }
  return out;
}

Result<WorldVocab> ReadGgufWorldVocab(const std::string& gguf_path) {
  ANSER_ASSIGN_OR_RETURN(GgufFile file, LoadGguf(gguf_path, GgufRead::kMetadata));
  const GgufValue* model = file.metadata.Find("tokenizer.ggml.model");
  const GgufValue* tokens = file.metadata.Find("tokenizer.ggml.tokens");
  const GgufValue* types = file.metadata.Find("tokenizer.ggml.token_type");
  if (model == nullptr || model->type != GgufType::kString || model->s != "rwkv" || tokens == nullptr ||
      tokens->type != GgufType::kArray || tokens->item_type != GgufType::kString) {
    return Status::Error("[tokenizer] " + gguf_path + " embeds no RWKV World vocabulary");
  }
  WorldVocab vocab;
  vocab.tokens.resize(tokens->items.size());
  for (size_t id = 1; id < tokens->items.size(); ++id) {
    if (types != nullptr && types->type == GgufType::kArray && id < types->items.size()) {
      const std::optional<int64_t> type = types->items[id].AsInt();
      if (type == kGgufTokenControl || type == kGgufTokenUnused) continue;
    }
    vocab.tokens[id] = UnescapeRwkvToken(tokens->items[id].s);
  }
  for (int byte = 0; byte < 256; ++byte) {
    const size_t id = static_cast<size_t>(byte) + 1;
    if (id >= vocab.tokens.size() || vocab.tokens[id] != std::string(1, static_cast<char>(byte))) {
      return Status::Error("[tokenizer] " + gguf_path + ": embedded vocabulary lacks the single byte " +
                           std::to_string(byte) + " at id " + std::to_string(id));
    }
  }
  return vocab;
}

}  // namespace anser
