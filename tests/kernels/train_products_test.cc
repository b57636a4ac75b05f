// Every table's training products (kernels.h gemm_*) against a double-precision product, at
// sizes around the tables' register tiles, cache blocks and depth slices (none of n, k, m a
// multiple of them, and some exactly one), accumulating and not; and each table's sums the same
// on any number of threads.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "core/cpu_features.h"
#include "core/dtype.h"
#include "kernels/kernels.h"
#include "test_util.h"

namespace anser::testing {
namespace {

// Another summation order than the double product: a few float ulps times √k, relative to the
// rms size of the terms (as kFloatBound of matmul_test.cc).
constexpr double kBound = 3e-5;

struct Shape {
  int64_t n, k, m;
};
// n and m around the tiles (6 × 16 and 12 × 32) and blocks (96 × 256), k around the 256-deep
// slice; the last spans several row and column blocks, so threads split column strips.
constexpr Shape kShapes[] = {{1, 1, 1},     {5, 7, 3},     {13, 64, 17},   {6, 256, 16},
                             {12, 257, 32}, {97, 300, 33}, {200, 33, 260}, {96, 512, 256},
                             {7, 0, 5},     {31, 129, 100}, {197, 300, 530}};

// C (m × cols) as `c0` (or zero) plus Σ_p A(i, p)·B(p, j) in double, and the error scale
// sqrt(Σ (A(i,p)·B(p,j))² + c0²) over all outputs.
template <typename AAt, typename BAt>
std::vector<double> Expected(int64_t rows, int64_t depth, int64_t cols, AAt a, BAt b,
                             const std::vector<float>* c0, double* scale) {
  std::vector<double> c(static_cast<size_t>(rows * cols));
  double s = 0.0;
  for (int64_t i = 0; i < rows; ++i) {
    for (int64_t j = 0; j < cols; ++j) {
      double sum = c0 ? (*c0)[i * cols + j] : 0.0;
      s += sum * sum;
      for (int64_t p = 0; p < depth; ++p) {
        const double t = static_cast<double>(a(i, p)) * b(p, j);
        sum += t;
        s += t * t;
      }
      c[i * cols + j] = sum;
    }
  }
  *scale = std::sqrt(s);
  return c;
}

double Error(const std::vector<float>& got, const std::vector<double>& want, double scale) {
  double err = 0.0;
  for (size_t i = 0; i < want.size(); ++i) err += (got[i] - want[i]) * (got[i] - want[i]);
  if (std::isnan(err)) return err;
  return scale > 0.0 ? std::sqrt(err) / scale : std::sqrt(err);
}

std::string Name(const CpuKernels& k, const char* op, Shape s, bool accumulate) {
  return std::string(k.name) + " " + op + " n " + std::to_string(s.n) + " k " +
         std::to_string(s.k) + " m " + std::to_string(s.m) + (accumulate ? " +=" : " =");
}

TEST(TrainProductsTest, MatchDoubleProduct) {
  for (const CpuKernels* table : AllKernels()) {
    for (const Shape s : kShapes) {
      const auto seed = static_cast<uint32_t>(s.n * 1009 + s.k * 31 + s.m);
      const std::vector<float> a = RandomFloats(s.n * s.k, seed);
      const std::vector<float> b = RandomFloats(s.k * s.m, seed + 1);  // k × m, or m × k for NT
      const std::vector<float> c0 = RandomFloats(s.n * s.m, seed + 2);
      for (bool accumulate : {false, true}) {
        for (bool transposed : {false, true}) {
          SCOPED_TRACE(Name(*table, transposed ? "NT" : "NN", s, accumulate));
          double scale = 0.0;
          const std::vector<double> want = Expected(
              s.n, s.k, s.m, [&](int64_t i, int64_t p) { return a[i * s.k + p]; },
              [&](int64_t p, int64_t j) { return transposed ? b[j * s.k + p] : b[p * s.m + j]; },
              accumulate ? &c0 : nullptr, &scale);
          std::vector<float> got = c0;
          (transposed ? table->gemm_nt : table->gemm_nn)(a.data(), b.data(), s.n, s.k, s.m,
                                                         got.data(), accumulate, 2);
          EXPECT_LE(Error(got, want, scale), kBound);
        }
      }
      // TN: A is n × k tokens by outputs (here: s.k tokens, s.n rows of C), B s.k × s.m.
      SCOPED_TRACE(Name(*table, "TN", s, true));
      double scale = 0.0;
      const std::vector<float> at = RandomFloats(s.k * s.n, seed + 3);
      const std::vector<double> want = Expected(
          s.n, s.k, s.m, [&](int64_t i, int64_t p) { return at[p * s.n + i]; },
          [&](int64_t p, int64_t j) { return b[p * s.m + j]; }, &c0, &scale);
      std::vector<float> got = c0;
      table->gemm_tn_acc(at.data(), b.data(), s.k, s.n, s.m, got.data(), 2);
      EXPECT_LE(Error(got, want, scale), kBound);
    }
  }
}

float Bf16(float x) { return Bf16ToF32(F32ToBf16(x)); }

// The bfloat16 products, where a table has them (the reference always; avx512 on CPUs with
// AVX-512 BF16): the double product of the inputs rounded to bfloat16, within the float bound.
TEST(TrainProductsTest, Bf16ProductsMatchDoubleProductOfRoundedInputs) {
  EXPECT_NE(RefKernels().bf16_products, nullptr);
  for (const CpuKernels* table : AllKernels()) {
    if (std::string(table->name) == "avx512") {
      EXPECT_EQ(table->bf16_products != nullptr, GetCpuFeatures().avx512bf16);
    }
    const Bf16TrainProducts* bf16 = table->bf16_products;
    if (bf16 == nullptr) continue;
    for (const Shape s : kShapes) {
      const auto seed = static_cast<uint32_t>(s.n * 1013 + s.k * 37 + s.m);
      const std::vector<float> a = RandomFloats(s.n * s.k, seed);
      const std::vector<float> b = RandomFloats(s.k * s.m, seed + 1);
      const std::vector<float> c0 = RandomFloats(s.n * s.m, seed + 2);
      for (bool transposed : {false, true}) {
        SCOPED_TRACE(Name(*table, transposed ? "bf16 NT" : "bf16 NN", s, true));
        double scale = 0.0;
        const std::vector<double> want = Expected(
            s.n, s.k, s.m, [&](int64_t i, int64_t p) { return Bf16(a[i * s.k + p]); },
            [&](int64_t p, int64_t j) { return Bf16(transposed ? b[j * s.k + p] : b[p * s.m + j]); },
            &c0, &scale);
        std::vector<float> got = c0;
        (transposed ? bf16->gemm_nt : bf16->gemm_nn)(a.data(), b.data(), s.n, s.k, s.m, got.data(),
                                                     true, 2);
        EXPECT_LE(Error(got, want, scale), kBound);
      }
      SCOPED_TRACE(Name(*table, "bf16 TN", s, true));
      double scale = 0.0;
      const std::vector<double> want = Expected(
          s.n, s.k, s.m, [&](int64_t i, int64_t p) { return Bf16(a[p * s.n + i]); },
          [&](int64_t p, int64_t j) { return Bf16(b[p * s.m + j]); }, &c0, &scale);
      std::vector<float> got = c0;
      bf16->gemm_tn_acc(a.data(), b.data(), s.k, s.n, s.m, got.data(), 2);
      EXPECT_LE(Error(got, want, scale), kBound);
      // Rounding matters: the float32 product of the same inputs is farther than the bound
      // from the rounded inputs' one wherever the depth is more than a few terms.
      if (s.k >= 64) {
        std::vector<float> exact = c0;
        table->gemm_tn_acc(a.data(), b.data(), s.k, s.n, s.m, exact.data(), 2);
        EXPECT_GT(Error(exact, want, scale), 10 * kBound);
      }
    }
  }
}

// Training is reproducible on a table: the same bits on one thread as on two.
TEST(TrainProductsTest, SameOnAnyThreads) {
  constexpr Shape s{200, 300, 260};
  const std::vector<float> a = RandomFloats(s.n * s.k, 7), b = RandomFloats(s.k * s.m, 8);
  for (const CpuKernels* table : AllKernels()) {
    SCOPED_TRACE(table->name);
    std::vector<float> one(s.n * s.m), two(s.n * s.m);
    table->gemm_nn(a.data(), b.data(), s.n, s.k, s.m, one.data(), false, 1);
    table->gemm_nn(a.data(), b.data(), s.n, s.k, s.m, two.data(), false, 2);
    EXPECT_EQ(one, two);
    table->gemm_nt(a.data(), b.data(), s.n, s.k, s.m, one.data(), true, 1);
    table->gemm_nt(a.data(), b.data(), s.n, s.k, s.m, two.data(), true, 2);
    EXPECT_EQ(one, two);
    table->gemm_tn_acc(a.data(), b.data(), s.k, s.n, s.m, one.data(), 1);
    table->gemm_tn_acc(a.data(), b.data(), s.k, s.n, s.m, two.data(), 2);
    EXPECT_EQ(one, two);
    if (table->bf16_products != nullptr) {
      table->bf16_products->gemm_nt(a.data(), b.data(), s.n, s.k, s.m, one.data(), false, 1);
      table->bf16_products->gemm_nt(a.data(), b.data(), s.n, s.k, s.m, two.data(), false, 2);
      EXPECT_EQ(one, two);
    }
  }
}

}  // namespace
}  // namespace anser::testing
