// Training's dense row-major products (the gemm_* entries of kernels.h): the reference loops, in
// float or double (the double ones serve the gradient tests), and how every table splits a
// product's output tiles over the kernel pool.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "core/dtype.h"
#include "core/thread_pool.h"

namespace anser {

// Calls fn(begin, end) over ranges covering [0, items) on up to `threads` of the kernel pool's
// threads (the caller's included): inline when threads ≤ 1, or when the whole product (items ·
// cost_per_item multiply-adds) is too small to pay for waking a worker (~64K multiply-adds a
// part). Each item is one output tile, computed alike on any thread.
template <typename F>
void RunOverTiles(int64_t items, int64_t cost_per_item, int threads, const F& fn) {
  if (items <= 0) return;
  constexpr int64_t kMinCostPerPart = int64_t{1} << 16;
  ThreadPool& pool = KernelPool();
  // Plain comparisons, no std::min: the SIMD tables instantiate this in their ISA's files.
  int64_t parts = items * (cost_per_item > 1 ? cost_per_item : 1) / kMinCostPerPart;
  if (parts > threads) parts = threads;
  if (parts > pool.threads()) parts = pool.threads();
  if (parts > items) parts = items;
  if (parts <= 1) {
    fn(int64_t{0}, items);
    return;
  }
  pool.ParallelFor(items, (items + parts - 1) / parts, fn);
}

// The reference products: the axpy order (the innermost loop runs over contiguous output
// columns, so it vectorises without reassociating sums), four output rows at a time so each
// row of B loaded serves four, k in blocks of 64 rows of B kept hot in cache; threads over
// output rows.
template <typename Real>
struct RefTrainProducts {
  static constexpr int64_t kTile = 64;

  // C[i][:] += Σ_{p0 ≤ p < p1} A(i, p) · B[p][:] for rows [i0, i1), where A(i, p) is
  // a[i·rs + p·ps]; B and C have m columns.
  static void Rows(const Real* a, int64_t rs, int64_t ps, const Real* b, int64_t m, Real* c,
                   int64_t i0, int64_t i1, int64_t p0, int64_t p1) {
    int64_t i = i0;
    for (; i + 4 <= i1; i += 4) {
      Real *c0 = c + i * m, *c1 = c0 + m, *c2 = c1 + m, *c3 = c2 + m;
      const Real* ai = a + i * rs;
      for (int64_t p = p0; p < p1; ++p) {
        const Real s0 = ai[p * ps], s1 = ai[rs + p * ps], s2 = ai[2 * rs + p * ps],
                   s3 = ai[3 * rs + p * ps];
        const Real* bp = b + p * m;
        for (int64_t j = 0; j < m; ++j) {
          const Real bj = bp[j];
          c0[j] += s0 * bj;
          c1[j] += s1 * bj;
          c2[j] += s2 * bj;
          c3[j] += s3 * bj;
        }
      }
    }
    for (; i < i1; ++i) {
      Real* ci = c + i * m;
      const Real* ai = a + i * rs;
      for (int64_t p = p0; p < p1; ++p) {
        const Real s = ai[p * ps];
        const Real* bp = b + p * m;
        for (int64_t j = 0; j < m; ++j) ci[j] += s * bp[j];
      }
    }
  }

  // C[n][m] = A[n][k] · B[k][m]   (or C += … when accumulate)
  static void NN(const Real* a, const Real* b, int64_t n, int64_t k, int64_t m, Real* c,
                 bool accumulate, int threads) {
    RunOverTiles(n, k * m, threads, [&](int64_t begin, int64_t end) {
      if (!accumulate) std::fill(c + begin * m, c + end * m, Real(0));
      for (int64_t p0 = 0; p0 < k; p0 += kTile) {
        Rows(a, k, 1, b, m, c, begin, end, p0, std::min(k, p0 + kTile));
      }
    });
  }

  // C[n][m] = A[n][k] · B[m][k]ᵀ   (or C += …): B transposed once (m·k, cheap next to n·m·k).
  static void NT(const Real* a, const Real* b, int64_t n, int64_t k, int64_t m, Real* c,
                 bool accumulate, int threads) {
    std::vector<Real> bt(static_cast<size_t>(m * k));
    for (int64_t j = 0; j < m; ++j) {
      for (int64_t p = 0; p < k; ++p) bt[static_cast<size_t>(p * m + j)] = b[j * k + p];
    }
    NN(a, bt.data(), n, k, m, c, accumulate, threads);
  }

  // C[m][k] += A[n][m]ᵀ · B[n][k]: Aᵀ read in place (column stride m).
  static void TNAcc(const Real* a, const Real* b, int64_t n, int64_t m, int64_t k, Real* c,
                    int threads) {
    RunOverTiles(m, n * k, threads, [&](int64_t begin, int64_t end) {
      for (int64_t t0 = 0; t0 < n; t0 += kTile) {
        Rows(a, 1, m, b, k, c, begin, end, t0, std::min(n, t0 + kTile));
      }
    });
  }
};

// The reference bfloat16 products (kernels.h Bf16TrainProducts): copies of A and B with every
// value rounded to bfloat16, then the float32 reference loops. A product of two bfloat16 values
// is exact in float32, so only the sums round, as in any table's.
struct RefBf16TrainProducts {
  static std::vector<float> Rounded(const float* x, int64_t n) {
    std::vector<float> out(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) out[static_cast<size_t>(i)] = Bf16ToF32(F32ToBf16(x[i]));
    return out;
  }
  static void NN(const float* a, const float* b, int64_t n, int64_t k, int64_t m, float* c,
                 bool accumulate, int threads) {
    RefTrainProducts<float>::NN(Rounded(a, n * k).data(), Rounded(b, k * m).data(), n, k, m, c,
                                accumulate, threads);
  }
  static void NT(const float* a, const float* b, int64_t n, int64_t k, int64_t m, float* c,
                 bool accumulate, int threads) {
    RefTrainProducts<float>::NT(Rounded(a, n * k).data(), Rounded(b, m * k).data(), n, k, m, c,
                                accumulate, threads);
  }
  static void TNAcc(const float* a, const float* b, int64_t n, int64_t m, int64_t k, float* c,
                    int threads) {
    RefTrainProducts<float>::TNAcc(Rounded(a, n * m).data(), Rounded(b, n * k).data(), n, m, k, c,
                                   threads);
  }
};

}  // namespace anser
