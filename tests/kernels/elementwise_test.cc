// The branch-free element functions of the forward pass against the C library in double.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "kernels/elementwise.h"

namespace anser::testing {
namespace {

TEST(ElementwiseTest, ExpWithinTwoUlpOverItsRange) {
  double worst = 0.0;
  for (double x = -87.0; x <= 88.0; x += 1.3e-4) {
    const auto xf = static_cast<float>(x);
    const double want = std::exp(static_cast<double>(xf));
    worst = std::max(worst, std::fabs(Exp(xf) - want) / want);
  }
  EXPECT_LE(worst, 2.0 * std::numeric_limits<float>::epsilon() / 2.0);  // 2 ulp of a float
  EXPECT_EQ(Exp(0.0f), 1.0f);
}

TEST(ElementwiseTest, ExpSaturatesOutsideItsRange) {
  for (float x : {-1000.0f, -88.0f, -std::numeric_limits<float>::infinity()}) {
    EXPECT_GE(Exp(x), 0.0f) << x;
    EXPECT_LE(Exp(x), 2e-38f) << x;
  }
  for (float x : {89.0f, 1000.0f, std::numeric_limits<float>::infinity()}) {
    EXPECT_TRUE(std::isfinite(Exp(x))) << x;
    EXPECT_GE(Exp(x), 1e38f) << x;
  }
}

TEST(ElementwiseTest, SigmoidAndTanh) {
  double sigmoid_worst = 0.0, tanh_worst = 0.0;
  for (double x = -40.0; x <= 40.0; x += 1.7e-4) {
    const auto xf = static_cast<float>(x);
    const double s = 1.0 / (1.0 + std::exp(-static_cast<double>(xf)));
    sigmoid_worst = std::max(sigmoid_worst, std::fabs(Sigmoid(xf) - s) / s);
    tanh_worst = std::max(tanh_worst, std::fabs(Tanh(xf) - std::tanh(static_cast<double>(xf))));
  }
  EXPECT_LE(sigmoid_worst, 3e-7);
  EXPECT_LE(tanh_worst, 3e-7);
  EXPECT_EQ(Sigmoid(-1000.0f), Sigmoid(-1000.0f));  // not NaN far out
  EXPECT_EQ(Sigmoid(1000.0f), 1.0f);
  EXPECT_EQ(Tanh(1000.0f), 1.0f);
  EXPECT_EQ(Tanh(-1000.0f), -1.0f);
}

}  // namespace
}  // namespace anser::testing
