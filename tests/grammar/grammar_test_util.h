// Helpers for grammar tests: vocabularies made up for a test, and whole-string matching.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <random>
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

// A random walk through the grammar: at each step a uniformly chosen allowed byte, except that
// with probability 1/3 an allowed byte among "closing" ones is preferred, so documents end.
inline std::string RandomDocument(const std::shared_ptr<const CompiledGrammar>& grammar,
                                  std::mt19937& rng, size_t max_bytes) {
  GrammarMatcher matcher(grammar);
  TokenMask mask;
  std::string text;
  while (text.size() < max_bytes && !matcher.IsComplete()) {
    matcher.FillNextTokenMask(&mask);
    std::vector<int> allowed, closing;
    for (int t = 0; t < mask.size(); ++t) {
      if (!mask.Allowed(t)) continue;
      allowed.push_back(t);
      if (t == 0 || t == '"' || t == '}' || t == ']' || t == ',' || t == '`' || t == '\n' ||
          (t >= '0' && t <= '9')) {
        closing.push_back(t);
      }
    }
    if (allowed.empty()) return "";  // a dead end would be a bug: the caller checks
    const std::vector<int>& pool = !closing.empty() && rng() % 3 == 0 ? closing : allowed;
    const int token = pool[rng() % pool.size()];
    if (token == 0) break;
    EXPECT_TRUE(matcher.AcceptToken(token));
    text += static_cast<char>(token);
  }
  return matcher.CanEnd() ? text : "";
}

}  // namespace anser::testing
