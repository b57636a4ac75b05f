// The filtered distribution, checked exactly through the internal ComputeDrawWeights.
#include "sampling/draw_weights.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <numeric>
#include <random>
#include <vector>

#include "kernels/elementwise.h"

namespace anser::sampling {
namespace {

SamplerOptions Plain() {
  SamplerOptions options;
  options.temperature = 1.0f;
  options.top_p = 1.0f;
  options.top_k = 0;
  options.min_p = 0.0f;
  return options;
}

// Logits whose softmax is exactly the given probabilities (up to rounding).
std::vector<float> LogitsOf(const std::vector<double>& probs) {
  std::vector<float> logits;
  for (double p : probs) logits.push_back(static_cast<float>(std::log(p)));
  return logits;
}

// The normalised draw distribution.
std::vector<double> Distribution(const std::vector<float>& logits, const SamplerOptions& options) {
  std::vector<float> weights(logits.size());
  std::vector<int> order(logits.size());
  const double total = ComputeDrawWeights(logits, options, weights, order);
  std::vector<double> probs;
  for (float w : weights) probs.push_back(w / total);
  return probs;
}

std::vector<int> Kept(const std::vector<double>& probs) {
  std::vector<int> kept;
  for (size_t t = 0; t < probs.size(); ++t) {
    if (probs[t] > 0) kept.push_back(static_cast<int>(t));
  }
  return kept;
}

TEST(DrawWeightsTest, NoFilterIsSoftmax) {
  const std::vector<double> probs = {0.1, 0.2, 0.3, 0.4};
  const std::vector<double> got = Distribution(LogitsOf(probs), Plain());
  for (size_t t = 0; t < probs.size(); ++t) EXPECT_NEAR(got[t], probs[t], 1e-6) << t;
}

TEST(DrawWeightsTest, TopPKeepsSmallestSetReachingP) {
  SamplerOptions options = Plain();
  options.top_p = 0.6f;  // cumulative 0.4, 0.7: the first two reach it
  const std::vector<double> got = Distribution(LogitsOf({0.4, 0.3, 0.2, 0.1}), options);
  EXPECT_EQ(Kept(got), (std::vector<int>{0, 1}));
  EXPECT_NEAR(got[0], 0.4 / 0.7, 1e-6);
  EXPECT_NEAR(got[1], 0.3 / 0.7, 1e-6);
}

TEST(DrawWeightsTest, TopPIgnoresOrderOfIds) {
  SamplerOptions options = Plain();
  options.top_p = 0.6f;
  EXPECT_EQ(Kept(Distribution(LogitsOf({0.1, 0.3, 0.2, 0.4}), options)), (std::vector<int>{1, 3}));
}

TEST(DrawWeightsTest, TopPKeepsTiesAtTheCutoff) {
  SamplerOptions options = Plain();
  options.top_p = 0.5f;  // reached at the first 0.2; ChatRWKV keeps every p >= that cutoff
  EXPECT_EQ(Kept(Distribution(LogitsOf({0.2, 0.4, 0.2, 0.2}), options)),
            (std::vector<int>{0, 1, 2, 3}));
}

TEST(DrawWeightsTest, TopPZeroKeepsTheTopToken) {
  SamplerOptions options = Plain();
  options.top_p = 0.0f;
  EXPECT_EQ(Kept(Distribution(LogitsOf({0.3, 0.5, 0.2}), options)), (std::vector<int>{1}));
}

TEST(DrawWeightsTest, TopKKeepsExactlyKLowestIdOnTies) {
  SamplerOptions options = Plain();
  options.top_k = 2;
  EXPECT_EQ(Kept(Distribution(LogitsOf({0.1, 0.3, 0.3, 0.3}), options)), (std::vector<int>{1, 2}));
  options.top_k = 3;
  EXPECT_EQ(Kept(Distribution(LogitsOf({0.4, 0.1, 0.3, 0.2}), options)),
            (std::vector<int>{0, 2, 3}));
}

TEST(DrawWeightsTest, TopKAndTopPIntersect) {
  SamplerOptions options = Plain();
  options.top_k = 3;
  options.top_p = 0.6f;  // top-p alone keeps {0, 1}
  EXPECT_EQ(Kept(Distribution(LogitsOf({0.4, 0.3, 0.2, 0.1}), options)), (std::vector<int>{0, 1}));
  options.top_k = 1;
  EXPECT_EQ(Kept(Distribution(LogitsOf({0.4, 0.3, 0.2, 0.1}), options)), (std::vector<int>{0}));
}

TEST(DrawWeightsTest, MinPDropsBelowFractionOfMax) {
  SamplerOptions options = Plain();
  options.min_p = 0.25f;  // threshold 0.125: 0.05 goes
  const std::vector<double> got = Distribution(LogitsOf({0.5, 0.3, 0.15, 0.05}), options);
  EXPECT_EQ(Kept(got), (std::vector<int>{0, 1, 2}));
  EXPECT_NEAR(got[2], 0.15 / 0.95, 1e-6);
  options.min_p = 5.0f;  // above 1: the top token must still be drawable
  EXPECT_EQ(Kept(Distribution(LogitsOf({0.5, 0.3, 0.15, 0.05}), options)), (std::vector<int>{0}));
}

TEST(DrawWeightsTest, TemperatureRaisesProbabilitiesToOneOverT) {
  const std::vector<double> probs = {0.5, 0.3, 0.2};
  for (double temperature : {0.5, 2.0, 0.1}) {
    SamplerOptions options = Plain();
    options.temperature = static_cast<float>(temperature);
    const std::vector<double> got = Distribution(LogitsOf(probs), options);
    double norm = 0;
    for (double p : probs) norm += std::pow(p, 1 / temperature);
    for (size_t t = 0; t < probs.size(); ++t) {
      EXPECT_NEAR(got[t], std::pow(probs[t], 1 / temperature) / norm, 1e-6) << temperature;
    }
  }
  SamplerOptions options = Plain();
  options.temperature = 0.5f;
  EXPECT_GT(Distribution(LogitsOf(probs), options)[0], 0.5);  // sharper
}

TEST(DrawWeightsTest, TemperatureAppliesAfterTopP) {
  SamplerOptions options = Plain();
  options.top_p = 0.6f;
  options.temperature = 0.5f;  // squares: 0.16, 0.09 over 0.25
  const std::vector<double> got = Distribution(LogitsOf({0.4, 0.3, 0.2, 0.1}), options);
  EXPECT_EQ(Kept(got), (std::vector<int>{0, 1}));
  EXPECT_NEAR(got[0], 0.16 / 0.25, 1e-6);
}

TEST(DrawWeightsTest, InfiniteLogits) {
  constexpr float kInf = std::numeric_limits<float>::infinity();
  EXPECT_EQ(Kept(Distribution({0.0f, kInf, -kInf, kInf}, Plain())), (std::vector<int>{1, 3}));
  SamplerOptions options = Plain();
  options.temperature = kInf;  // flattens, but -inf logits stay impossible
  EXPECT_EQ(Kept(Distribution({0.0f, -kInf, 1.0f}, options)), (std::vector<int>{0, 2}));
  std::vector<float> weights(2);
  std::vector<int> order(2);
  EXPECT_EQ(ComputeDrawWeights(std::vector<float>{-kInf, -kInf}, Plain(), weights, order), 0.0);
}

// A direct, fully sorting statement of the filters, with the same float arithmetic, to check
// the chunked nth_element path on a large vocabulary with many tied logits.
std::vector<int> ReferenceKept(const std::vector<float>& logits, const SamplerOptions& options) {
  const int n = static_cast<int>(logits.size());
  const float max_logit = *std::max_element(logits.begin(), logits.end());
  std::vector<float> e(n);
  double sum = 0;
  for (int t = 0; t < n; ++t) sum += e[t] = Exp(logits[t] - max_logit);
  std::vector<int> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return logits[a] > logits[b]; });
  std::vector<bool> keep(n, true);
  if (options.top_k > 0) {
    for (int i = options.top_k; i < n; ++i) keep[order[i]] = false;
  }
  if (options.top_p < 1) {
    double cumulative = 0;
    for (int i = 0; i < n; ++i) {
      cumulative += e[order[i]];
      if (cumulative >= options.top_p * sum) {
        for (int t = 0; t < n; ++t) keep[t] = keep[t] && e[t] >= e[order[i]];
        break;
      }
    }
  }
  std::vector<int> kept;
  for (int t = 0; t < n; ++t) {
    if (keep[t] && e[t] > 0 && e[t] >= options.min_p) kept.push_back(t);
  }
  return kept;
}

TEST(DrawWeightsTest, LargeVocabularyMatchesFullSortReference) {
  std::mt19937_64 rng(7);
  std::normal_distribution<float> normal(0.0f, 3.0f);
  for (int n : {1, 63, 64, 65, 5000}) {
    std::vector<float> logits(n);
    // Quarter steps make many exact ties, where a wrong tie rule would show.
    for (float& x : logits) x = std::round(normal(rng) * 4) / 4;
    for (int top_k : {0, 1, 10, 100, n - 1}) {
      for (float top_p : {0.0f, 0.1f, 0.5f, 0.9f, 0.99f, 1.0f}) {
        for (float min_p : {0.0f, 0.01f}) {
          SamplerOptions options = Plain();
          options.top_k = top_k;
          options.top_p = top_p;
          options.min_p = min_p;
          EXPECT_EQ(Kept(Distribution(logits, options)), ReferenceKept(logits, options))
              << "n=" << n << " top_k=" << top_k << " top_p=" << top_p << " min_p=" << min_p;
        }
      }
    }
  }
}

TEST(DrawWeightsTest, ArgmaxLowestIdOnTiesAndIgnoresNaN) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float inf = std::numeric_limits<float>::infinity();
  EXPECT_EQ(Argmax(std::vector<float>{1, 3, 3, 2}), 1);
  EXPECT_EQ(Argmax(std::vector<float>{nan, 1, nan, 0}), 1);
  EXPECT_EQ(Argmax(std::vector<float>{nan, nan}), 0);
  EXPECT_EQ(Argmax(std::vector<float>{-inf, -inf, -inf}), 0);
}

TEST(DrawWeightsTest, UniformFromBitsRange) {
  EXPECT_EQ(UniformFromBits(0), 0.0);
  EXPECT_LT(UniformFromBits(~uint64_t{0}), 1.0);
  EXPECT_EQ(UniformFromBits(uint64_t{1} << 63), 0.5);
}

TEST(DrawWeightsTest, DrawIndexNeverPicksZeroWeight) {
  const std::vector<float> weights = {0, 1, 0, 3, 0};
  EXPECT_EQ(DrawIndex(weights, 4, 0.0), 1);
  EXPECT_EQ(DrawIndex(weights, 4, 0.2499), 1);
  EXPECT_EQ(DrawIndex(weights, 4, 0.25), 3);
  EXPECT_EQ(DrawIndex(weights, 4, std::nextafter(1.0, 0.0)), 3);
}

}  // namespace
}  // namespace anser::sampling
