#include <algorithm>
#include <bit>
#include <limits>
#include <vector>

#include "anser/grammar.h"
#include "core/check.h"

namespace anser {
namespace {

// Sampling goes through the allowed tokens alone when at most 1/kSparseFraction are allowed.
constexpr int kSparseFraction = 8;

}  // namespace

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
  int token = 0;
  if (mask->Count() * kSparseFraction <= mask->size()) {
    // Few tokens allowed: sample among them alone (the same draw, without a pass over all).
    thread_local std::vector<int> allowed;
    allowed.clear();
    const std::span<const uint64_t> words = mask->words();
    for (size_t w = 0; w < words.size(); ++w) {
      for (uint64_t bits = words[w]; bits != 0; bits &= bits - 1) {
        allowed.push_back(static_cast<int>(w * 64) + std::countr_zero(bits));
      }
    }
    token = sampler.SampleFrom(logits, allowed);
  } else {
    ApplyTokenMask(*mask, logits);
    token = sampler.Sample(logits);
  }
  // Sample falls back to token 0 when every logit is -inf; the grammar may not allow it.
  return matcher.AcceptToken(token) ? token : -1;
}

}  // namespace anser
