// The batch invariant of every table (kernels.h): row t of matmul(w, X, n) is bitwise the
// matvec of X's row t, whatever n, the layout and the thread count. A server batching requests
// and a prompt split into any calls both rest on it.
#include <gtest/gtest.h>

#include <cstring>

#include "core/thread_pool.h"
#include "kernels/kernels.h"
#include "test_util.h"

namespace anser::testing {
namespace {

constexpr DType kTypes[] = {DType::kF32,    DType::kF16,  DType::kBF16, DType::kQ8_0,
                            DType::kQ4_0,   DType::kQ4_1, DType::kQ5_0, DType::kQ5_1,
                            DType::kIQ4_NL, DType::kQ4_K, DType::kQ5_K, DType::kQ6_K,
                            DType::kIQ4_XS, DType::kQ3_K, DType::kQ2_K};
// ThreadSanitizer runs this test about 30 times slower (four minutes of CI). There the token
// counts keep one of each kind — one token, a tile, a tile and one, several token blocks — so
// every threaded path still runs under it; the other builds run them all.
#if defined(__SANITIZE_THREAD__)
constexpr int64_t kTokens[] = {1, 2, 8, 9, 64};
#else
constexpr int64_t kTokens[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 17, 64, 300};
#endif

struct Shape {
  int64_t rows, cols;
};

// Rows never a multiple of 8 (whole 8-row tiles and rows left over), columns with a tail of
// vector lanes for the float types; the larger matrices split over two threads in several
// chunks, and their columns give several token blocks at 64 and 300 tokens.
std::vector<Shape> Shapes(DType dtype) {
  if (DTypeBlockElems(dtype) == 256) return {{37, 256}, {139, 1024}};
  if (DTypeIsBlock(dtype)) return {{37, 96}, {139, 1024}};
  return {{37, 300}, {139, 300}, {13, 2100}};
}

class ThreadsScope {
 public:
  explicit ThreadsScope(int threads) : saved_(KernelThreads()) { SetKernelThreads(threads); }
  ~ThreadsScope() { SetKernelThreads(saved_); }

 private:
  int saved_;
};

// matvec of each of n tokens, on one thread.
std::vector<float> TokenByToken(const CpuKernels& k, const MatRef& w, const float* x, int64_t n) {
  const ThreadsScope one(1);
  std::vector<float> y(static_cast<size_t>(n * w.rows));
  for (int64_t t = 0; t < n; ++t) k.matvec(w, x + t * w.cols, y.data() + t * w.rows);
  return y;
}

// The first token whose row differs in any bit, or −1.
int64_t FirstDifferentRow(const std::vector<float>& want, const float* got, int64_t n,
                          int64_t rows) {
  for (int64_t t = 0; t < n; ++t) {
    if (std::memcmp(want.data() + t * rows, got + t * rows,
                    static_cast<size_t>(rows) * sizeof(float)) != 0)
      return t;
  }
  return -1;
}

TEST(BatchInvarianceTest, MatmulRowsAreMatvecBitwise) {
  for (const CpuKernels* k : AllKernels()) {
    for (DType dtype : kTypes) {
      for (const Shape& shape : Shapes(dtype)) {
        TestMatrix w(dtype, shape.rows, shape.cols, 1,
                     static_cast<uint32_t>(shape.rows + shape.cols));
        const int64_t most = kTokens[std::size(kTokens) - 1];
        TestVector x(RandomFloats(most * shape.cols, static_cast<uint32_t>(shape.cols)), 3);
        for (const MatRef& layout : w.Layouts(*k)) {
          const std::vector<float> want = TokenByToken(*k, layout, x.data(), most);
          for (int threads : {1, 2}) {
            const ThreadsScope scope(threads);
            SCOPED_TRACE(Describe(*k, dtype, shape.rows, shape.cols, 1) + " " + LayoutName(layout) +
                         " threads " + std::to_string(threads));
            // One token on several threads.
            Output one(shape.rows, 1);
            k->matvec(layout, x.data(), one.data());
            EXPECT_EQ(FirstDifferentRow(want, one.data(), 1, shape.rows), -1) << "matvec";
            for (int64_t n : kTokens) {
              Output got(n * shape.rows, 2);
              k->matmul(layout, x.data(), n, got.data());
              EXPECT_EQ(FirstDifferentRow(want, got.data(), n, shape.rows), -1) << "n " << n;
              EXPECT_TRUE(got.GuardIntact()) << "n " << n;
            }
          }
        }
      }
    }
  }
}

}  // namespace
}  // namespace anser::testing
