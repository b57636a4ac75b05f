// The distribution half of Sampler: penalised logits in, the weights a draw uses out. Kept
// apart from the random draw so tests can check the filtered distribution exactly instead of
// estimating it from many samples.
#pragma once

#include <cstdint>
#include <span>

#include "anser/sampler.h"

namespace anser::sampling {

// Index of the largest value, lowest index on ties. NaN never wins; 0 if nothing is above -inf.
int Argmax(std::span<const float> logits);

// Writes into `weights` the unnormalised probabilities a draw uses: softmax of `logits`, then
// top-k, top-p and min-p from `options` (thresholds on the full softmax, see Sampler), then
// raised to 1/temperature. weights[t] == 0 means t cannot be drawn. Returns the sum of the
// weights (in id order, as DrawIndex adds them): >= 1 unless every logit is -inf, then 0.
// `logits` must hold no NaN; options.temperature must be > 0. `order` is scratch. All three
// spans have the same size. Does not allocate.
double ComputeDrawWeights(std::span<const float> logits, const SamplerOptions& options,
                          std::span<float> weights, std::span<int> order);

// A double uniform in [0, 1) built from the top 53 bits, so that draws do not depend on how a
// standard library implements its distributions.
double UniformFromBits(uint64_t bits);

// The index t with weights in [0, t) summing to <= u·total < weights in [0, t] (id order);
// u in [0, 1), total as returned by ComputeDrawWeights (> 0). Never returns a zero weight.
int DrawIndex(std::span<const float> weights, double total, double u);

}  // namespace anser::sampling
