#include <algorithm>
#include <bit>
#include <limits>
#include <vector>

#include "anser/grammar.h"
#include "core/check.h"

namespace anser {

void TokenMask::Resize(int n_vocab) {
  size_ = n_vocab;
  words_.resize((static_cast<size_t>(n_vocab) + 63) / 64);
}

void TokenMask::Clear() { std::fill(words_.begin(), words_.end(), 0); }

int TokenMask::Count() const {
  int count = 0;
  for (const uint64_t w : words_) count += std::popcount(w);
  return count;
}

void ApplyTokenMask(const TokenMask& mask, std::span<float> logits) {
  ANSER_CHECK(logits.size() == static_cast<size_t>(mask.size()),
              "ApplyTokenMask: logits and mask sizes differ");
  constexpr float kMinusInf = -std::numeric_limits<float>::infinity();
  const std::span<const uint64_t> words = mask.words();
  for (size_t w = 0; w < words.size(); ++w) {
    const uint64_t word = words[w];
    if (word == ~uint64_t{0}) continue;
    const size_t begin = w * 64;
    const size_t end = std::min(begin + 64, logits.size());
    if (word == 0) {
      std::fill(logits.begin() + static_cast<std::ptrdiff_t>(begin),
                logits.begin() + static_cast<std::ptrdiff_t>(end), kMinusInf);
      continue;
    }
    for (size_t t = begin; t < end; ++t) {
      if (((word >> (t - begin)) & 1) == 0) logits[t] = kMinusInf;
    }
  }
}

int SampleWithGrammar(Sampler& sampler, GrammarMatcher& matcher, TokenMask* mask,
                      std::span<float> logits) {
  matcher.FillNextTokenMask(mask);
  ApplyTokenMask(*mask, logits);
  const int token = sampler.Sample(logits);
  // Sample falls back to token 0 when every logit is -inf; the grammar may not allow it.
  return matcher.AcceptToken(token) ? token : -1;
}

}  // namespace anser
