// The World tokenizer (the real vocabulary) and the byte tokenizer on arbitrary input: encode
// of any bytes, the round trip decode(encode(x)) == x, and decode of arbitrary ids (the input
// read as little-endian int32s), which must give the tokens' bytes or an error.
#include <cstring>
#include <vector>

#include "fuzz_support.h"
#include "tokenizer/world_tokenizer.h"
#include "tokenizer/world_vocab.h"

namespace {

const anser::Tokenizer& World() {
  static const std::unique_ptr<anser::Tokenizer> tokenizer = [] {
    auto loaded = anser::LoadWorldTokenizer(ANSER_SHARED_DIR "/vocab/rwkv_vocab_v20230424.txt");
    anser::fuzz::Require(loaded.ok(), "the World vocabulary in shared/vocab loads");
    return std::move(loaded).value();
  }();
  return *tokenizer;
}

// `first_id`: the lowest id Encode may give (World: 1, id 0 is the end of a document; bytes: 0).
void CheckTokenizer(const anser::Tokenizer& tokenizer, int first_id, std::string_view text,
                    const std::vector<int>& ids) {
  using anser::fuzz::Require;
  const std::vector<int> encoded = tokenizer.Encode(text);
  for (int id : encoded)
    Require(id >= first_id && id < tokenizer.vocab_size(), "encode gives known ids");
  anser::Result<std::string> back = tokenizer.Decode(encoded);
  Require(back.ok() && *back == text, "decode(encode(x)) == x");
  anser::Result<std::string> decoded = tokenizer.Decode(ids);
  std::string expected;
  bool known = true;
  for (int id : ids) {
    if (id < 0 || id >= tokenizer.vocab_size()) known = false;
    if (known) expected += tokenizer.TokenBytes(id);
  }
  Require(decoded.ok() == known, "decode fails exactly on ids outside the vocabulary");
  if (known) Require(*decoded == expected, "decode concatenates the tokens' bytes");
}

}  // namespace

// Loads the vocabulary before the first input, so its one-time cost is not taken for a slow input.
extern "C" int LLVMFuzzerInitialize(int*, char***) {
  World();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  std::vector<int> ids(size / 4);
  if (!ids.empty()) std::memcpy(ids.data(), data, ids.size() * 4);
  CheckTokenizer(World(), 1, text, ids);
  static const std::unique_ptr<anser::Tokenizer> bytes = anser::MakeByteTokenizer();
  CheckTokenizer(*bytes, 0, text, ids);
  return 0;
}
