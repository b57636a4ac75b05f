// The World vocabulary parser; a vocabulary it accepts must make a tokenizer that round-trips.
#include "tokenizer/world_vocab.h"

#include <string_view>

#include "fuzz_support.h"
#include "tokenizer/world_tokenizer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace anser;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  Result<WorldVocab> vocab = ParseWorldVocab(text, "fuzz.txt");
  if (!vocab.ok()) {
    fuzz::Require(!vocab.message().empty(), "a failed parse must say why");
    return 0;
  }
  const std::unique_ptr<Tokenizer> tokenizer = MakeWorldTokenizer(*vocab);
  const std::string_view sample = text.substr(0, 256);
  Result<std::string> back = tokenizer->Decode(tokenizer->Encode(sample));
  fuzz::Require(back.ok() && *back == sample, "decode(encode(x)) == x");
  return 0;
}
