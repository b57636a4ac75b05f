#include "anser/sampler.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "sampling/draw_weights.h"

namespace anser {
namespace {

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
constexpr float kInf = std::numeric_limits<float>::infinity();

SamplerOptions Plain(uint64_t seed = 0) {
  SamplerOptions options;
  options.temperature = 1.0f;
  options.top_p = 1.0f;
  options.top_k = 0;
  options.min_p = 0.0f;
  options.seed = seed;
  return options;
}

SamplerOptions Greedy() {
  SamplerOptions options = Plain();
  options.temperature = 0.0f;
  return options;
}

TEST(SamplerTest, GreedyPicksArgmaxLowestIdOnTies) {
  Sampler sampler(5, Greedy());
  std::vector<float> logits = {0.1f, 2.0f, -1.0f, 1.9f, 0.0f};
  EXPECT_EQ(sampler.Sample(logits), 1);
  logits = {0.1f, 2.0f, -1.0f, 2.0f, 0.0f};
  EXPECT_EQ(sampler.Sample(logits), 1);
}

TEST(SamplerTest, PenaltiesShiftTheChoiceAsComputedByHand) {
  SamplerOptions options = Greedy();
  options.presence_penalty = 0.3f;
  options.frequency_penalty = 0.2f;
  options.penalty_decay = 0.5f;
  Sampler sampler(3, options);
  sampler.Accept(0);  // counts {1, 0, 0}
  sampler.Accept(0);  // {0.5 + 1, 0, 0}
  sampler.Accept(1);  // {0.75, 1, 0}
  std::vector<float> logits = {1.0f, 0.9f, 0.6f};
  // 1.0 - (0.3 + 0.2·0.75) = 0.55; 0.9 - (0.3 + 0.2·1) = 0.4; 0.6 untouched: argmax moves to 2.
  EXPECT_EQ(sampler.Sample(logits), 2);
  EXPECT_NEAR(logits[0], 0.55f, 1e-6f);
  EXPECT_NEAR(logits[1], 0.4f, 1e-6f);
  EXPECT_EQ(logits[2], 0.6f);
}

TEST(SamplerTest, DecayMultipliesEveryCountBeforeAdding) {
  SamplerOptions options = Greedy();
  options.frequency_penalty = 1.0f;
  options.penalty_decay = 0.5f;
  Sampler sampler(2, options);
  for (int i = 0; i < 3; ++i) sampler.Accept(0);  // 1 → 1.5 → 1.75
  std::vector<float> logits = {0.0f, 0.0f};
  sampler.Sample(logits);
  EXPECT_EQ(logits[0], -1.75f);
  EXPECT_EQ(logits[1], 0.0f);

  options.penalty_decay = 1.0f;  // no decay: plain counts
  Sampler counting(2, options);
  for (int i = 0; i < 3; ++i) counting.Accept(1);
  logits = {0.0f, 0.0f};
  counting.Sample(logits);
  EXPECT_EQ(logits[1], -3.0f);
}

TEST(SamplerTest, ZeroCountGetsNoPresencePenalty) {
  SamplerOptions options = Greedy();
  options.presence_penalty = 1.0f;
  options.penalty_decay = 0.0f;  // only the last token keeps a nonzero count
  Sampler sampler(2, options);
  sampler.Accept(0);
  sampler.Accept(1);
  std::vector<float> logits = {0.0f, 0.0f};
  EXPECT_EQ(sampler.Sample(logits), 0);
  EXPECT_EQ(logits[0], 0.0f);
  EXPECT_EQ(logits[1], -1.0f);
}

TEST(SamplerTest, ResetPenaltiesClearsCounts) {
  SamplerOptions options = Greedy();
  options.presence_penalty = 5.0f;
  Sampler sampler(2, options);
  sampler.Accept(0);
  sampler.ResetPenalties();
  std::vector<float> logits = {1.0f, 0.0f};
  EXPECT_EQ(sampler.Sample(logits), 0);
  EXPECT_EQ(logits[0], 1.0f);
}

TEST(SamplerTest, TopKOneEqualsGreedy) {
  std::mt19937_64 rng(1);
  std::normal_distribution<float> normal(0.0f, 2.0f);
  for (uint64_t seed = 0; seed < 50; ++seed) {
    std::vector<float> logits(1000);
    for (float& x : logits) x = std::round(normal(rng) * 2) / 2;  // ties included
    SamplerOptions options = Plain(seed);
    options.top_k = 1;
    options.temperature = 3.0f;
    Sampler sampler(1000, options);
    std::vector<float> copy = logits;
    EXPECT_EQ(sampler.Sample(copy), sampling::Argmax(logits)) << seed;
  }
}

TEST(SamplerTest, TopPEmpiricalFrequencies) {
  SamplerOptions options = Plain(42);
  options.top_p = 0.6f;  // keeps {0, 1}: p = 0.4/0.7 and 0.3/0.7
  Sampler sampler(4, options);
  constexpr int kDraws = 20000;
  std::vector<int> hits(4, 0);
  for (int i = 0; i < kDraws; ++i) {
    std::vector<float> logits = {std::log(0.4f), std::log(0.3f), std::log(0.2f), std::log(0.1f)};
    ++hits[sampler.Sample(logits)];
  }
  EXPECT_EQ(hits[2], 0);
  EXPECT_EQ(hits[3], 0);
  // Standard error of a frequency near 4/7 over 20000 draws is sqrt(0.245 / 20000) ≈ 0.0035;
  // 0.02 is over 5 of them, so only a wrong distribution (not chance) fails this.
  EXPECT_NEAR(hits[0] / static_cast<double>(kDraws), 4.0 / 7.0, 0.02);
}

TEST(SamplerTest, MinPNeverDrawsDroppedTokens) {
  SamplerOptions options = Plain(3);
  options.min_p = 0.25f;
  Sampler sampler(4, options);
  for (int i = 0; i < 2000; ++i) {
    std::vector<float> logits = {std::log(0.5f), std::log(0.3f), std::log(0.15f), std::log(0.05f)};
    EXPECT_NE(sampler.Sample(logits), 3);
  }
}

TEST(SamplerTest, LowTemperatureSharpens) {
  auto top_share = [](float temperature) {
    SamplerOptions options = Plain(9);
    options.temperature = temperature;
    Sampler sampler(3, options);
    int top = 0;
    for (int i = 0; i < 4000; ++i) {
      std::vector<float> logits = {std::log(0.5f), std::log(0.3f), std::log(0.2f)};
      top += sampler.Sample(logits) == 0;
    }
    return top / 4000.0;
  };
  // Expected 0.5, 0.25/0.38 ≈ 0.66 and ≈ 0.9999: gaps far beyond the ≈ 0.008 standard error.
  EXPECT_NEAR(top_share(1.0f), 0.5, 0.04);
  EXPECT_NEAR(top_share(0.5f), 0.25 / 0.38, 0.04);
  EXPECT_GT(top_share(0.05f), 0.99);
}

std::vector<int> Generate(uint64_t seed, int count) {
  SamplerOptions options = Plain(seed);
  options.top_p = 0.9f;
  options.presence_penalty = 0.1f;
  Sampler sampler(100, options);
  std::vector<int> tokens;
  for (int i = 0; i < count; ++i) {
    std::vector<float> logits(100, 0.0f);
    tokens.push_back(sampler.Sample(logits));
    sampler.Accept(tokens.back());
  }
  return tokens;
}

TEST(SamplerTest, SameSeedSameTokensDifferentSeedDifferent) {
  EXPECT_EQ(Generate(123, 64), Generate(123, 64));
  EXPECT_NE(Generate(123, 64), Generate(124, 64));
}

TEST(SamplerTest, NaNLogitsAreNeverDrawn) {
  Sampler sampler(4, Plain(5));
  for (int i = 0; i < 500; ++i) {
    std::vector<float> logits = {kNaN, 1.0f, kNaN, 0.0f};
    const int token = sampler.Sample(logits);
    EXPECT_TRUE(token == 1 || token == 3) << token;
    EXPECT_EQ(logits[0], -kInf);
  }
  Sampler greedy(4, Greedy());
  std::vector<float> logits = {kNaN, 1.0f, kNaN, 0.0f};
  EXPECT_EQ(greedy.Sample(logits), 1);
}

TEST(SamplerTest, DegenerateLogitsDoNotCrash) {
  for (const SamplerOptions& options : {Plain(), Greedy()}) {
    Sampler sampler(3, options);
    std::vector<float> all_nan = {kNaN, kNaN, kNaN};
    EXPECT_EQ(sampler.Sample(all_nan), 0);
    std::vector<float> all_minus_inf = {-kInf, -kInf, -kInf};
    EXPECT_EQ(sampler.Sample(all_minus_inf), 0);
    std::vector<float> with_inf = {0.0f, kInf, kNaN};
    EXPECT_EQ(sampler.Sample(with_inf), 1);
  }
  SamplerOptions options = Plain();
  options.temperature = kNaN;  // treated as greedy
  Sampler sampler(2, options);
  std::vector<float> logits = {0.0f, 1.0f};
  EXPECT_EQ(sampler.Sample(logits), 1);
}

}  // namespace
}  // namespace anser
