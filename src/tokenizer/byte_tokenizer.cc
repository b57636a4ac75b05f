// Tokenizer of the byte-level models (n_vocab 256): token id = byte value.
#include <cstdint>
#include <string>
#include <vector>

#include "anser/tokenizer.h"

namespace anser {
namespace {

// All 256 byte values in order, so that TokenBytes can return views into static storage.
struct ByteTable {
  char bytes[256];
  constexpr ByteTable() : bytes() {
    for (int b = 0; b < 256; ++b) bytes[b] = static_cast<char>(b);
  }
};
constexpr ByteTable kByteTable;

class ByteTokenizer final : public Tokenizer {
 public:
  std::vector<int> Encode(std::string_view text) const override {
    std::vector<int> ids(text.size());
    for (size_t i = 0; i < text.size(); ++i) ids[i] = static_cast<uint8_t>(text[i]);
    return ids;
  }

  // Unlike the World vocabulary, id 0 is a real token here: the byte 0x00.
  Result<std::string> Decode(std::span<const int> ids) const override {
    std::string text(ids.size(), '\0');
    for (size_t i = 0; i < ids.size(); ++i) {
      if (ids[i] < 0 || ids[i] >= 256) {
        return Status::Error("[tokenizer] cannot decode token id " + std::to_string(ids[i]) +
                             " at position " + std::to_string(i) +
                             ": the byte tokenizer has ids 0 to 255");
      }
      text[i] = static_cast<char>(ids[i]);
    }
    return text;
  }

  std::string_view TokenBytes(int id) const override {
    if (id < 0 || id >= 256) return {};
    return std::string_view(&kByteTable.bytes[id], 1);
  }

  int vocab_size() const override { return 256; }
};

}  // namespace

std::unique_ptr<Tokenizer> MakeByteTokenizer() { return std::make_unique<ByteTokenizer>(); }

}  // namespace anser
