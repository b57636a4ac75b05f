// Tokenizers: the RWKV World tokenizer (greedy longest byte match through a trie) and the
// byte-level tokenizer of 256-vocabulary models (token = byte). Immutable and thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "anser/status.h"

namespace anser {

class Tokenizer {
 public:
  virtual ~Tokenizer() = default;
  // Any byte string, including invalid UTF-8, encodes; Decode(Encode(s)) == s.
  virtual std::vector<int> Encode(std::string_view text) const = 0;
  // The bytes of the tokens concatenated. Token 0 (end of document) decodes to nothing.
  // Returns an error naming the first id outside the vocabulary.
  virtual Result<std::string> Decode(std::span<const int> ids) const = 0;
  // The bytes of one token ("" for 0 or an unknown id).
  virtual std::string_view TokenBytes(int id) const = 0;
  virtual int vocab_size() const = 0;  // largest id + 1
};

// Parses a World vocabulary file (lines `ID REPR LEN`, REPR a Python str or bytes literal).
Result<std::unique_ptr<Tokenizer>> LoadWorldTokenizer(const std::string& vocab_path);
std::unique_ptr<Tokenizer> MakeByteTokenizer();

// The World tokenizer from the copy of the vocabulary installed with Anser
// (share/anser/rwkv_vocab_v20230424.txt beside the lib/ or bin/ folder holding the library).
Result<std::unique_ptr<Tokenizer>> LoadInstalledWorldTokenizer();

// The tokenizer a model of `n_vocab` tokens uses. 65536: the World vocabulary from
// `vocab_flag` if set, else `rwkv_vocab_v20230424.txt` beside the model file or inside its
// folder, else $ANSER_VOCAB, else a GGUF file's embedded vocabulary, else the copy installed
// with Anser; an error says where to get it if none is found. 256: bytes.
// Any other size: nullptr (the model runs from token ids only).
Result<std::unique_ptr<Tokenizer>> TokenizerForModel(const std::string& model_path, int n_vocab,
                                                      const std::string& vocab_flag);

}  // namespace anser
