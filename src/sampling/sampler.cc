#include "anser/sampler.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/check.h"
#include "sampling/draw_weights.h"

namespace anser {

Sampler::Sampler(int n_vocab, SamplerOptions options)
    : options_(options),
      counts_(static_cast<size_t>(std::max(n_vocab, 0)), 0.0f),
      probs_(counts_.size()),
      order_(counts_.size()),
      rng_(options.seed) {
  ANSER_CHECK(n_vocab > 0, "Sampler: n_vocab must be positive");
}

int Sampler::Sample(std::span<float> logits) {
  ANSER_CHECK(logits.size() == counts_.size(), "Sampler::Sample: logits size != n_vocab");
  const float presence = options_.presence_penalty;
  const float frequency = options_.frequency_penalty;
  // Selects rather than branches, so that the loop vectorizes.
  for (size_t t = 0; t < logits.size(); ++t) {
    const float x = logits[t] - (counts_[t] != 0.0f ? presence + frequency * counts_[t] : 0.0f);
    // Mapped after the penalties so that a NaN penalty cannot bring NaN back.
    logits[t] = std::isnan(x) ? -std::numeric_limits<float>::infinity() : x;
  }
  // `!(t > 0)` also sends a NaN temperature to greedy rather than to pow(p, NaN).
  if (!(options_.temperature > 0.0f)) return sampling::Argmax(logits);
  const double total = sampling::ComputeDrawWeights(logits, options_, probs_, order_);
  if (total <= 0.0) return sampling::Argmax(logits);
  return sampling::DrawIndex(probs_, total, sampling::UniformFromBits(rng_()));
}

void Sampler::Accept(int token) {
  ANSER_CHECK(token >= 0 && static_cast<size_t>(token) < counts_.size(),
              "Sampler::Accept: token outside the vocabulary");
  for (float& count : counts_) count *= options_.penalty_decay;
  counts_[static_cast<size_t>(token)] += 1.0f;
}

void Sampler::ResetPenalties() { std::fill(counts_.begin(), counts_.end(), 0.0f); }

}  // namespace anser
