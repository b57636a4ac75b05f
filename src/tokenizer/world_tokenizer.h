// The World tokenizer built from an already parsed vocabulary (LoadWorldTokenizer reads a file).
#pragma once

#include <memory>

#include "anser/tokenizer.h"
#include "tokenizer/world_vocab.h"

namespace anser {

// Encodes by greedy longest match from left to right, as the official RWKV TRIE_TOKENIZER does.
// `vocab` must hold all 256 single bytes (ParseWorldVocab ensures it); aborts otherwise.
std::unique_ptr<Tokenizer> MakeWorldTokenizer(const WorldVocab& vocab);

}  // namespace anser
