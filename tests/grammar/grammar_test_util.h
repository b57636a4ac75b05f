// Helpers for grammar tests: vocabularies made up for a test, and whole-string matching.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "anser/grammar.h"

namespace anser::testing {

// Token 0 plus the 255 non-zero single bytes (id = byte value), then `extra` tokens.
inline std::shared_ptr<const GrammarVocabulary> ByteVocabulary(
    const std::vector<std::string>& extra = {}) {
  std::vector<std::string> tokens(256);
  for (int b = 1; b < 256; ++b) tokens[b] = std::string(1, static_cast<char>(b));
  tokens.insert(tokens.end(), extra.begin(), extra.end());
  return std::make_shared<const GrammarVocabulary>(std::move(tokens));
}

// Whether `text` is a complete sentence of the grammar.
inline bool Matches(const std::shared_ptr<const CompiledGrammar>& grammar, std::string_view text) {
  GrammarMatcher matcher(grammar);
  return matcher.AcceptBytes(text) && matcher.CanEnd();
}

// Whether `text` can be continued into a sentence of the grammar.
inline bool IsPrefix(const std::shared_ptr<const CompiledGrammar>& grammar, std::string_view text) {
  GrammarMatcher matcher(grammar);
  return matcher.AcceptBytes(text);
}

}  // namespace anser::testing
