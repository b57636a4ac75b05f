// The dropout masks: the kept fraction, the scale, and that a row's mask depends on its place in
// the global batch alone (so a batch shared out over processes drops the same elements).
#include "train/dropout.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

namespace anser {
namespace {

TEST(DropoutTest, KeepsOneMinusPAndScalesTheKeptToKeepTheMean) {
  const DropoutSpec spec{0.25, 5, 0};
  const int64_t rows = 64, cols = 1000;
  const std::vector<double> mask = DropoutMask<double>(spec, 2, DropoutSite::kAfterTimeMix, rows, cols);
  int64_t kept = 0;
  double sum = 0;
  for (double m : mask) {
    if (m != 0.0) {
      EXPECT_EQ(m, 1.0 / 0.75);
      ++kept;
    }
    sum += m;
  }
  // 64,000 Bernoulli(0.75) draws: the standard deviation of the kept count is 110.
  EXPECT_NEAR(static_cast<double>(kept), 0.75 * rows * cols, 5 * 110.0);
  EXPECT_NEAR(sum / static_cast<double>(rows * cols), 1.0, 5 * 110.0 / 0.75 / (rows * cols));
}

TEST(DropoutTest, ARowsMaskDependsOnItsGlobalRowOnly) {
  const int64_t cols = 37;
  const std::vector<float> whole =
      DropoutMask<float>({0.5, 9, 0}, 1, DropoutSite::kAfterChannelMix, 20, cols);
  const std::vector<float> second_half =
      DropoutMask<float>({0.5, 9, 10}, 1, DropoutSite::kAfterChannelMix, 10, cols);
  EXPECT_TRUE(std::equal(second_half.begin(), second_half.end(), whole.begin() + 10 * cols));
  // Another site, layer or seed draws another mask.
  for (const std::vector<float>& other :
       {DropoutMask<float>({0.5, 9, 0}, 1, DropoutSite::kAfterTimeMix, 20, cols),
        DropoutMask<float>({0.5, 9, 0}, 0, DropoutSite::kAfterChannelMix, 20, cols),
        DropoutMask<float>({0.5, DropoutSeed(9, 1), 0}, 1, DropoutSite::kAfterChannelMix, 20, cols)}) {
    EXPECT_NE(other, whole);
  }
}

TEST(DropoutTest, ZeroProbabilityKeepsEverything) {
  for (float m : DropoutMask<float>({0.0, 3, 0}, 0, DropoutSite::kAfterTimeMix, 4, 9)) {
    EXPECT_EQ(m, 1.0f);
  }
}

}  // namespace
}  // namespace anser
