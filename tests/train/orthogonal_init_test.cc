// The blocked orthogonal initialisation against its definition: the Q of the QR (R's diagonal
// positive) of the same Gaussian draws, computed here by plain modified Gram-Schmidt in double.
#include "train/orthogonal_init.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "train/rng.h"

namespace anser {
namespace {

// The reference: q vectors of length p drawn in stream order, orthonormalised one by one.
std::vector<double> GramSchmidtQ(int64_t p, int64_t q, uint64_t seed) {
  SplitMix64 rng(seed);
  std::vector<double> v(static_cast<size_t>(p * q));
  for (double& x : v) x = static_cast<float>(rng.Normal());  // the draws as the init stores them
  for (int64_t j = 0; j < q; ++j) {
    double* vj = v.data() + j * p;
    for (int pass = 0; pass < 2; ++pass) {
      for (int64_t i = 0; i < j; ++i) {
        const double* vi = v.data() + i * p;
        double dot = 0;
        for (int64_t t = 0; t < p; ++t) dot += vi[t] * vj[t];
        for (int64_t t = 0; t < p; ++t) vj[t] -= dot * vi[t];
      }
    }
    double norm = 0;
    for (int64_t t = 0; t < p; ++t) norm += vj[t] * vj[t];
    for (int64_t t = 0; t < p; ++t) vj[t] /= std::sqrt(norm);
  }
  return v;
}

void ExpectMatchesGramSchmidt(int64_t rows, int64_t cols, int threads) {
  const double gain = 0.5;
  SplitMix64 rng(11);
  std::vector<float> out(static_cast<size_t>(rows * cols));
  OrthogonalInit(out.data(), rows, cols, gain, rng, threads);
  const int64_t p = std::max(rows, cols), q = std::min(rows, cols);
  EXPECT_EQ(rng.state(), SplitMix64(11).state() + 2 * static_cast<uint64_t>(p * q) *
                                                      0x9E3779B97F4A7C15ull)
      << "two draws a value";
  const std::vector<double> ref = GramSchmidtQ(p, q, 11);
  const double g = rows > cols ? gain * std::sqrt(static_cast<double>(rows) / cols) : gain;
  double worst = 0;
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t c = 0; c < cols; ++c) {
      const double want = g * (rows >= cols ? ref[static_cast<size_t>(c * p + r)]
                                            : ref[static_cast<size_t>(r * p + c)]);
      worst = std::max(worst, std::abs(out[static_cast<size_t>(r * cols + c)] - want));
    }
  }
  // Float products against double Gram-Schmidt: entries are ~g/√p, agreement to ~1e-6 of g.
  EXPECT_LT(worst, 2e-5 * g) << rows << "×" << cols << ", " << threads << " threads";
}

TEST(OrthogonalInitTest, IsTheQOfTheGaussianDrawsQr) {
  // Several panels and leaves, with remainders; tall, wide and square.
  ExpectMatchesGramSchmidt(300, 141, 1);
  ExpectMatchesGramSchmidt(141, 300, 2);
  ExpectMatchesGramSchmidt(150, 150, 2);
  ExpectMatchesGramSchmidt(7, 3, 1);
}

TEST(OrthogonalInitTest, DoesNotDependOnTheThreadCount) {
  std::vector<float> one(512 * 200), two(512 * 200);
  SplitMix64 a(3), b(3);
  OrthogonalInit(one.data(), 512, 200, 1.0, a, 1);
  OrthogonalInit(two.data(), 512, 200, 1.0, b, 2);
  EXPECT_EQ(one, two);
  EXPECT_EQ(a.state(), b.state());
}

}  // namespace
}  // namespace anser
