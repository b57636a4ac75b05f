#include "sampling/draw_weights.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <limits>
#include <numeric>

#include "core/check.h"
#include "kernels/elementwise.h"

namespace anser::sampling {
namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();

// Top-p buckets the weights by the top bits of their float representation (positive floats
// order as their bits): the exponent and three mantissa bits, 2048 buckets in all.
constexpr int kBucketShift = 20;
constexpr int kBuckets = 1 << (31 - kBucketShift);

// Σ values in eight interleaved partial sums added in a fixed tree: the same result on every run,
// in a loop the compiler vectorizes (one running sum it cannot).
double Sum(std::span<const float> values) {
  std::array<double, 8> part{};
  size_t t = 0;
  for (; t + 8 <= values.size(); t += 8) {
    for (size_t j = 0; j < 8; ++j) part[j] += values[t + j];
  }
  for (; t < values.size(); ++t) part[t % 8] += values[t];
  return ((part[0] + part[1]) + (part[2] + part[3])) + ((part[4] + part[5]) + (part[6] + part[7]));
}

// The largest value (the logits hold no NaN), over eight independent running maxima.
float Max(std::span<const float> values) {
  std::array<float, 8> part;
  part.fill(-kInf);
  size_t t = 0;
  for (; t + 8 <= values.size(); t += 8) {
    for (size_t j = 0; j < 8; ++j) part[j] = values[t + j] > part[j] ? values[t + j] : part[j];
  }
  for (; t < values.size(); ++t) part[0] = values[t] > part[0] ? values[t] : part[0];
  float max = part[0];
  for (float m : part) max = m > max ? m : max;
  return max;
}

int BucketOf(float w) { return static_cast<int>(std::bit_cast<uint32_t>(w) >> kBucketShift); }

// The weight of the token where the cumulative weight, in descending order (by logit, lowest id
// first on ties), first reaches `target`; 0 if rounding keeps it from ever doing so. Two passes
// over the vocabulary: one sums the weights per bucket, which finds the bucket where the target is
// reached; the second gathers that bucket, whose tokens alone are sorted. A flat distribution,
// where top-p keeps most of the vocabulary, thus costs no sort of it.
float TopPCut(std::span<const float> logits, std::span<const float> weights, double target, std::span<int> order) {
  std::array<double, kBuckets> sums{};
  const int n = static_cast<int>(weights.size());
  for (int t = 0; t < n; ++t) {
    if (weights[t] > 0.0f) sums[static_cast<size_t>(BucketOf(weights[t]))] += weights[t];
  }
  double cumulative = 0.0;
  int bucket = kBuckets - 1;
  for (; bucket >= 0; --bucket) {
    const double in_bucket = sums[static_cast<size_t>(bucket)];
    if (in_bucket > 0.0 && cumulative + in_bucket >= target) break;
    cumulative += in_bucket;
  }
  if (bucket < 0) return 0.0f;
  int members = 0;
  for (int t = 0; t < n; ++t) {
    if (weights[t] > 0.0f && BucketOf(weights[t]) == bucket) order[members++] = t;
  }
  std::sort(order.begin(), order.begin() + members,
            [logits](int a, int b) { return logits[a] > logits[b] || (logits[a] == logits[b] && a < b); });
  for (int i = 0; i < members; ++i) {
    cumulative += weights[order[i]];
    if (cumulative >= target) return weights[order[i]];
  }
  return weights[order[members - 1]];
}

}  // namespace

int Argmax(std::span<const float> logits) {
  int best = 0;
  float best_value = -kInf;
  for (size_t t = 0; t < logits.size(); ++t) {
    if (logits[t] > best_value) {  // false for NaN, and strict so the lowest id wins ties
      best_value = logits[t];
      best = static_cast<int>(t);
    }
  }
  return best;
}

double ComputeDrawWeights(std::span<const float> logits, const SamplerOptions& options,
                          std::span<float> weights, std::span<int> order) {
  const int n = static_cast<int>(logits.size());
  ANSER_DCHECK(weights.size() == logits.size() && order.size() == logits.size(),
               "ComputeDrawWeights: span sizes differ");
  ANSER_DCHECK(options.temperature > 0, "ComputeDrawWeights: temperature must be > 0");

  const float max_logit = Max(logits);
  if (max_logit == -kInf) {
    std::fill(weights.begin(), weights.end(), 0.0f);
    return 0.0;
  }
  // Subtracting the maximum keeps exp in range and gives the top token weight exactly 1, so
  // weights[t] is p[t] / p_max. An infinite maximum would make inf - inf = NaN: the +inf tokens
  // then share all the probability. -inf logits (banned tokens) get exactly 0. Exp, not
  // std::exp: the loop vectorizes, and the weights are the same on every C library.
  if (max_logit == kInf) {
    for (int t = 0; t < n; ++t) weights[t] = logits[t] == kInf ? 1.0f : 0.0f;
  } else {
    for (int t = 0; t < n; ++t) weights[t] = logits[t] > -kInf ? Exp(logits[t] - max_logit) : 0.0f;
  }
  const double sum = Sum(weights);

  // Ranking by logit rather than by weight keeps tokens whose probabilities round to the same
  // float in their true order, so top-k = 1 is exactly greedy.
  auto ranks_before = [logits](int a, int b) {
    return logits[a] > logits[b] || (logits[a] == logits[b] && a < b);
  };
  const bool use_top_k = options.top_k > 0 && options.top_k < n;
  const bool use_top_p = options.top_p < 1.0f;
  const double target = static_cast<double>(options.top_p) * sum;
  int last_top_k = -1;     // the lowest-ranked token top-k keeps
  float top_p_cut = 0.0f;  // weight of the token where the cumulative probability reaches top_p
  if (use_top_k) {
    std::iota(order.begin(), order.end(), 0);
    int sorted = 0;  // order[0, sorted) is in final order and ranks before everything after it
    auto sort_up_to = [&](int end) {
      if (end < n) {
        std::nth_element(order.begin() + sorted, order.begin() + end, order.end(), ranks_before);
      }
      std::sort(order.begin() + sorted, order.begin() + end, ranks_before);
      sorted = end;
    };
    const int limit = options.top_k;
    sort_up_to(limit);
    last_top_k = order[limit - 1];
    if (use_top_p) {
      // If the cumulative probability never reaches top_p (rounding near 1, or a top-k set
      // smaller than the top-p one), top-p removes nothing that top-k keeps.
      double cumulative = 0.0;
      for (int i = 0; i < limit; ++i) {
        cumulative += weights[order[i]];
        if (cumulative >= target) {
          top_p_cut = weights[order[i]];
          break;
        }
      }
    }
  } else if (use_top_p) {
    top_p_cut = TopPCut(logits, weights, target, order);
  }
  // weights are p / p_max, so min-p is a plain threshold; capped at 1 so the top token stays.
  const float min_p_cut = options.min_p > 0.0f ? std::min(options.min_p, 1.0f) : 0.0f;
  const float cut = std::max(top_p_cut, min_p_cut);
  // p^(1/T) relative to the top token is exp((logit − max) / T): computed from the logit, not by
  // raising the rounded weight to a power, and as cheap as the weights themselves.
  const bool sharpen = options.temperature != 1.0f && max_logit != kInf;
  const float inverse_temperature = 1.0f / options.temperature;

  if (last_top_k < 0) {
    for (int t = 0; t < n; ++t) {
      const float e = weights[t];
      // e > 0 also excludes -inf logits, which a zero power would revive at infinite temperature.
      const float w = sharpen ? Exp((logits[t] - max_logit) * inverse_temperature) : e;
      weights[t] = e > 0.0f && e >= cut ? w : 0.0f;
    }
  } else {
    for (int t = 0; t < n; ++t) {
      const float e = weights[t];
      const bool keep = e > 0.0f && e >= cut && !ranks_before(last_top_k, t);
      weights[t] = keep ? (sharpen ? Exp((logits[t] - max_logit) * inverse_temperature) : e) : 0.0f;
    }
  }
  return Sum(weights);
}

double UniformFromBits(uint64_t bits) { return static_cast<double>(bits >> 11) * 0x1.0p-53; }

int DrawIndex(std::span<const float> weights, double total, double u) {
  const double target = u * total;
  double cumulative = 0.0;
  int last = 0;
  for (size_t t = 0; t < weights.size(); ++t) {
    if (weights[t] <= 0.0f) continue;
    cumulative += weights[t];
    last = static_cast<int>(t);
    if (cumulative > target) return last;
  }
  // Only reached when u·total rounds up to total: the last drawable token.
  return last;
}

}  // namespace anser::sampling
