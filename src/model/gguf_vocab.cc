// The World vocabulary as llama.cpp's `rwkv` tokenizer keys hold it.
#include <cstdio>

#include "model/convert.h"

namespace anser {
namespace {

// "\n\n" in the World vocabulary: llama.cpp's converter marks it end-of-turn for chat.
constexpr int kWorldEndOfTurn = 261;
constexpr int kWorldVocabSize = 65536;

}  // namespace

std::string EscapeRwkvToken(std::string_view bytes) {
  // repr() quotes with ' unless the bytes hold ' and no ".
  const bool single = bytes.find('\'') != std::string_view::npos;
  const bool dbl = bytes.find('"') != std::string_view::npos;
  const char quote = single && !dbl ? '"' : '\'';
  std::string out;
  for (const char ch : bytes) {
    const auto c = static_cast<unsigned char>(ch);
    if (ch == quote || ch == '\\') {
      out += '\\';
      out += ch;
    } else if (ch == '\t') {
      out += "\\t";
    } else if (ch == '\n') {
      out += "\\n";
    } else if (ch == '\r') {
      out += "\\r";
    } else if (c < 0x20 || c >= 0x7f) {
      char hex[5];
      std::snprintf(hex, sizeof(hex), "\\x%02x", c);
      out += hex;
    } else {
      out += ch;
    }
  }
  return out;
}

void AddRwkvVocab(const Tokenizer* tokenizer, int n_vocab, GgufMetadata* metadata) {
  std::vector<GgufValue> tokens, types;
  tokens.reserve(static_cast<size_t>(n_vocab));
  types.reserve(static_cast<size_t>(n_vocab));
  for (int id = 0; id < n_vocab; ++id) {
    std::string bytes;
    if (tokenizer != nullptr) {
      if (id < tokenizer->vocab_size()) bytes = std::string(tokenizer->TokenBytes(id));
    } else if (n_vocab == 256) {
      bytes = std::string(1, static_cast<char>(id));
    }
    if (id == 0 && (tokenizer != nullptr || n_vocab != 256)) {
      tokens.push_back(GgufValue::String("<s>"));
      types.push_back(GgufValue::I32(kGgufTokenControl));
    } else if (bytes.empty()) {
      tokens.push_back(GgufValue::String("[PAD" + std::to_string(id) + "]"));
      types.push_back(GgufValue::I32(kGgufTokenUnused));
    } else {
      tokens.push_back(GgufValue::String(EscapeRwkvToken(bytes)));
      types.push_back(GgufValue::I32(kGgufTokenNormal));
    }
  }
  const bool has_s = n_vocab > 0 && tokens[0].s == "<s>";
  metadata->Set("tokenizer.ggml.model", GgufValue::String("rwkv"));
  metadata->Set("tokenizer.ggml.tokens", GgufValue::Array(GgufType::kString, std::move(tokens)));
  metadata->Set("tokenizer.ggml.token_type", GgufValue::Array(GgufType::kI32, std::move(types)));
  if (has_s) {
    metadata->Set("tokenizer.ggml.bos_token_id", GgufValue::U32(0));
    metadata->Set("tokenizer.ggml.eos_token_id", GgufValue::U32(0));
  }
  if (n_vocab == kWorldVocabSize && tokenizer != nullptr) {
    metadata->Set("tokenizer.ggml.eot_token_id", GgufValue::U32(kWorldEndOfTurn));
  }
}

}  // namespace anser
