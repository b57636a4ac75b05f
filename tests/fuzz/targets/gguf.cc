// GGUF: header, metadata, tensor infos, the embedded vocabulary, then the rwkv7 model.
#include "fuzz_support.h"
#include "io/formats.h"
#include "tokenizer/gguf_vocab_reader.h"
#include "tokenizer/world_tokenizer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace anser;
  const std::string path = fuzz::WriteInput("model.gguf", data, size);
  Result<GgufFile> file = LoadGguf(path);
  if (!file.ok()) return 0;
  fuzz::ReadEveryByte(file->tensors);
  Result<WorldVocab> vocab = ReadGgufWorldVocab(path);
  if (vocab.ok()) {
    const std::unique_ptr<Tokenizer> tokenizer = MakeWorldTokenizer(*vocab);
    const std::string text = "Hello\n\xff";
    Result<std::string> back = tokenizer->Decode(tokenizer->Encode(text));
    fuzz::Require(back.ok() && *back == text, "embedded vocabulary round-trips");
  }
  fuzz::LoadAndRunOneToken(path);
  return 0;
}
