#include "sampling/draw_weights.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "core/check.h"

namespace anser::sampling {
namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();

// Top-p usually ends within a few dozen tokens, so the descending order is built in growing
// chunks (nth_element on the rest, then sort the chunk) instead of sorting the whole vocabulary.
constexpr int kFirstChunk = 64;

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

  float max_logit = -kInf;
  for (float x : logits) max_logit = std::max(max_logit, x);
  if (max_logit == -kInf) {
    std::fill(weights.begin(), weights.end(), 0.0f);
    return 0.0;
  }
  // Subtracting the maximum keeps exp in range and gives the top token weight exactly 1, so
  // weights[t] is p[t] / p_max. An infinite maximum would make inf - inf = NaN: the +inf tokens
  // then share all the probability.
  double sum = 0.0;
  for (int t = 0; t < n; ++t) {
    // exp(-inf) is 0: skipping the call matters when a grammar has forbidden most tokens.
    const float e = max_logit == kInf   ? (logits[t] == kInf ? 1.0f : 0.0f)
                    : logits[t] == -kInf ? 0.0f
                                         : std::exp(logits[t] - max_logit);
    weights[t] = e;
    sum += e;
  }

  // Ranking by logit rather than by weight keeps tokens whose probabilities round to the same
  // float in their true order, so top-k = 1 is exactly greedy.
  auto ranks_before = [logits](int a, int b) {
    return logits[a] > logits[b] || (logits[a] == logits[b] && a < b);
  };
  const bool use_top_k = options.top_k > 0 && options.top_k < n;
  const bool use_top_p = options.top_p < 1.0f;
  int last_top_k = -1;     // the lowest-ranked token top-k keeps
  float top_p_cut = 0.0f;  // weight of the token where the cumulative probability reaches top_p
  if (use_top_k || use_top_p) {
    std::iota(order.begin(), order.end(), 0);
    int sorted = 0;  // order[0, sorted) is in final order and ranks before everything after it
    auto sort_up_to = [&](int end) {
      if (end < n) {
        std::nth_element(order.begin() + sorted, order.begin() + end, order.end(), ranks_before);
      }
      std::sort(order.begin() + sorted, order.begin() + end, ranks_before);
      sorted = end;
    };
    const int limit = use_top_k ? options.top_k : n;
    if (use_top_k) {
      sort_up_to(limit);
      last_top_k = order[limit - 1];
    }
    if (use_top_p) {
      // If the cumulative probability never reaches top_p (rounding near 1, or a top-k set
      // smaller than the top-p one), top-p removes nothing that top-k keeps.
      const double target = static_cast<double>(options.top_p) * sum;
      double cumulative = 0.0;
      for (int i = 0; i < limit; ++i) {
        if (i == sorted) sort_up_to(std::min(limit, std::max(kFirstChunk, 2 * sorted)));
        cumulative += weights[order[i]];
        if (cumulative >= target) {
          top_p_cut = weights[order[i]];
          break;
        }
      }
    }
  }
  // weights are p / p_max, so min-p is a plain threshold; capped at 1 so the top token stays.
  const float min_p_cut = options.min_p > 0.0f ? std::min(options.min_p, 1.0f) : 0.0f;
  const float cut = std::max(top_p_cut, min_p_cut);
  const bool sharpen = options.temperature != 1.0f;
  const double exponent = 1.0 / static_cast<double>(options.temperature);

  double total = 0.0;
  for (int t = 0; t < n; ++t) {
    const float e = weights[t];
    // e > 0 also excludes -inf logits, which pow(0, 0) would revive at infinite temperature.
    const bool keep = e > 0.0f && e >= cut && (last_top_k < 0 || !ranks_before(last_top_k, t));
    float w = 0.0f;
    if (keep) w = sharpen ? static_cast<float>(std::pow(static_cast<double>(e), exponent)) : e;
    weights[t] = w;
    total += w;
  }
  return total;
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
