// The World vocabulary embedded in a GGUF file (llama.cpp's "rwkv" tokenizer keys), so the
// GGUF files people have run without a separate vocabulary file.
#pragma once

#include <string>
#include <string_view>

#include "anser/status.h"
#include "tokenizer/world_vocab.h"

namespace anser {

// A token's bytes from llama.cpp's text form of them (Python's repr() of the bytes without the
// b'' around it), as llama.cpp's loader reads it.
std::string UnescapeRwkvToken(std::string_view text);

// The vocabulary under `tokenizer.ggml.tokens` of a GGUF file whose `tokenizer.ggml.model` is
// "rwkv"; control and unused entries (token_type 3 and 5: "<s>", "[PAD…]") are left out.
Result<WorldVocab> ReadGgufWorldVocab(const std::string& gguf_path);

}  // namespace anser
