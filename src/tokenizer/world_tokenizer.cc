#include "tokenizer/world_tokenizer.h"

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "core/check.h"
#include "tokenizer/byte_trie.h"

namespace anser {
namespace {

class WorldTokenizer final : public Tokenizer {
 public:
  explicit WorldTokenizer(const WorldVocab& vocab) : trie_(vocab.tokens) {
    // One arena for all token bytes keeps decoding to a copy from contiguous memory.
    offsets_.reserve(vocab.tokens.size() + 1);
    for (const std::string& token : vocab.tokens) {
      offsets_.push_back(static_cast<uint32_t>(bytes_.size()));
      bytes_ += token;
    }
    offsets_.push_back(static_cast<uint32_t>(bytes_.size()));
    // Encode relies on this to always advance; ParseWorldVocab guarantees it for files.
    for (int b = 0; b < 256; ++b) {
      const char byte = static_cast<char>(b);
      ANSER_CHECK(trie_.LongestPrefix(std::string_view(&byte, 1)).id >= 0,
                  "a World vocabulary must hold every single byte");
    }
  }

  std::vector<int> Encode(std::string_view text) const override {
    std::vector<int> ids;
    // English averages about 3.4 bytes a token; reserving avoids most regrowth.
    ids.reserve(text.size() / 3 + 1);
    while (!text.empty()) {
      const ByteTrie::Match match = trie_.LongestPrefix(text);
      // Every single byte is a token (checked at construction), so a match always exists.
      ids.push_back(match.id);
      text.remove_prefix(match.length);
    }
    return ids;
  }

  Result<std::string> Decode(std::span<const int> ids) const override {
    size_t size = 0;
    for (size_t i = 0; i < ids.size(); ++i) {
      const int id = ids[i];
      if (id == 0) continue;
      if (id < 0 || id >= vocab_size() || Length(id) == 0) {
        return Status::Error("[tokenizer] cannot decode token id " + std::to_string(id) +
                             " at position " + std::to_string(i) + ": not in the World vocabulary");
      }
      size += Length(id);
    }
    std::string text;
    text.reserve(size);
    for (const int id : ids) text += TokenBytes(id);
    return text;
  }

  std::string_view TokenBytes(int id) const override {
    if (id <= 0 || id >= vocab_size()) return {};
    return std::string_view(bytes_).substr(offsets_[id], Length(id));
  }

  int vocab_size() const override { return static_cast<int>(offsets_.size()) - 1; }

 private:
  uint32_t Length(int id) const { return offsets_[id + 1] - offsets_[id]; }

  ByteTrie trie_;
  std::string bytes_;  // all tokens' bytes, in id order
  // (vocab_size + 1): token `id` is bytes_[offsets_[id], offsets_[id + 1]).
  std::vector<uint32_t> offsets_;
};

}  // namespace

std::unique_ptr<Tokenizer> MakeWorldTokenizer(const WorldVocab& vocab) {
  return std::make_unique<WorldTokenizer>(vocab);
}

Result<std::unique_ptr<Tokenizer>> LoadWorldTokenizer(const std::string& vocab_path) {
  ANSER_ASSIGN_OR_RETURN(WorldVocab vocab, ReadWorldVocab(vocab_path));
  return MakeWorldTokenizer(vocab);
}

}  // namespace anser
