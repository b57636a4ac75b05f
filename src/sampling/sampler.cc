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
      subset_(counts_.size()),
      rng_(options.seed) {
  ANSER_CHECK(n_vocab > 0, "Sampler: n_vocab must be positive");
}

int Sampler::Sample(std::span<float> logits) {
  ANSER_CHECK(logits.size() == counts_.size(), "Sampler::Sample: logits size != n_vocab");
  const float presence = options_.presence_penalty;
  const float frequency = options_.frequency_penalty;
  for (size_t t = 0; t < logits.size(); ++t) {
    if (counts_[t] != 0.0f) logits[t] -= presence + frequency * counts_[t];
    // Mapped after the penalties so that a NaN penalty cannot bring NaN back.
    if (std::isnan(logits[t])) logits[t] = -std::numeric_limits<float>::infinity();
  }
  // `!(t > 0)` also sends a NaN temperature to greedy rather than to pow(p, NaN).
  if (!(options_.temperature > 0.0f)) return sampling::Argmax(logits);
  const double total = sampling::ComputeDrawWeights(logits, options_, probs_, order_);
  if (total <= 0.0) return sampling::Argmax(logits);
  return sampling::DrawIndex(probs_, total, sampling::UniformFromBits(rng_()));
}

int Sampler::SampleFrom(std::span<float> logits, std::span<const int> candidates) {
  ANSER_CHECK(logits.size() == counts_.size(), "Sampler::SampleFrom: logits size != n_vocab");
  ANSER_CHECK(candidates.size() <= counts_.size(), "Sampler::SampleFrom: too many candidates");
  if (candidates.empty()) return 0;
  const float presence = options_.presence_penalty;
  const float frequency = options_.frequency_penalty;
  const size_t n = candidates.size();
  for (size_t i = 0; i < n; ++i) {
    const auto t = static_cast<size_t>(candidates[i]);
    ANSER_DCHECK(i == 0 || candidates[i - 1] < candidates[i], "candidates must ascend");
    if (counts_[t] != 0.0f) logits[t] -= presence + frequency * counts_[t];
    if (std::isnan(logits[t])) logits[t] = -std::numeric_limits<float>::infinity();
    subset_[i] = logits[t];
  }
  // The candidates keep their relative id order, and the other tokens would only add zero
  // weights, ranked last: the same weights, sums and draw as Sample over the full vocabulary.
  const std::span<float> subset(subset_.data(), n);
  // Sample's fallback for an all -inf row is token 0, which need not be a candidate.
  const auto fallback = [&](int index) {
    return subset[static_cast<size_t>(index)] == -std::numeric_limits<float>::infinity()
               ? 0
               : candidates[static_cast<size_t>(index)];
  };
  if (!(options_.temperature > 0.0f)) return fallback(sampling::Argmax(subset));
  const std::span<float> weights(probs_.data(), n);
  const double total =
      sampling::ComputeDrawWeights(subset, options_, weights, std::span<int>(order_.data(), n));
  if (total <= 0.0) return fallback(sampling::Argmax(subset));
  return candidates[static_cast<size_t>(
      sampling::DrawIndex(weights, total, sampling::UniformFromBits(rng_())))];
}

void Sampler::Accept(int token) {
  ANSER_CHECK(token >= 0 && static_cast<size_t>(token) < counts_.size(),
              "Sampler::Accept: token outside the vocabulary");
  for (float& count : counts_) count *= options_.penalty_decay;
  counts_[static_cast<size_t>(token)] += 1.0f;
}

void Sampler::ResetPenalties() { std::fill(counts_.begin(), counts_.end(), 0.0f); }

}  // namespace anser
