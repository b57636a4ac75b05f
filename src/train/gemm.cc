#include "train/gemm.h"

#include <algorithm>
#include <type_traits>
#include <vector>

#include "train/gemm_avx2.h"
#include "train/parallel.h"

namespace anser {
namespace {

// Rows of B kept hot in cache while every row of A in a thread's range uses them.
constexpr int64_t kTile = 64;

// out[cols][rows] = in[rows][cols]ᵀ
template <typename Real>
std::vector<Real> Transpose(const Real* in, int64_t rows, int64_t cols) {
  // 32×32 blocks keep both the rows read and the rows written in cache.
  constexpr int64_t kBlock = 32;
  std::vector<Real> out(static_cast<size_t>(rows * cols));
  for (int64_t r0 = 0; r0 < rows; r0 += kBlock) {
    for (int64_t c0 = 0; c0 < cols; c0 += kBlock) {
      const int64_t r1 = std::min(rows, r0 + kBlock), c1 = std::min(cols, c0 + kBlock);
      for (int64_t r = r0; r < r1; ++r) {
        for (int64_t c = c0; c < c1; ++c) out[static_cast<size_t>(c * rows + r)] = in[r * cols + c];
      }
    }
  }
  return out;
}

}  // namespace

template <typename Real>
void GemmNN(const Real* a, const Real* b, int64_t n, int64_t k, int64_t m, Real* c, bool accumulate,
            int threads) {
  ParallelFor(n, threads, k * m, [&](int64_t begin, int64_t end) {
    if (!accumulate) std::fill(c + begin * m, c + end * m, Real(0));
    for (int64_t p0 = 0; p0 < k; p0 += kTile) {
      const int64_t p1 = std::min(k, p0 + kTile);
      if constexpr (std::is_same_v<Real, float>) {
        if (TrainAvx2Available()) {
          GemmRowsAvx2(a, k, 1, b, m, c, begin, end, p0, p1);
          continue;
        }
      }
      int64_t i = begin;
      // Four rows of C at a time: each row of B loaded is used four times.
      for (; i + 4 <= end; i += 4) {
        Real *c0 = c + i * m, *c1 = c0 + m, *c2 = c1 + m, *c3 = c2 + m;
        const Real* ai = a + i * k;
        for (int64_t p = p0; p < p1; ++p) {
          const Real s0 = ai[p], s1 = ai[k + p], s2 = ai[2 * k + p], s3 = ai[3 * k + p];
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
      for (; i < end; ++i) {
        Real* ci = c + i * m;
        const Real* ai = a + i * k;
        for (int64_t p = p0; p < p1; ++p) {
          const Real s = ai[p];
          const Real* bp = b + p * m;
          for (int64_t j = 0; j < m; ++j) ci[j] += s * bp[j];
        }
      }
    }
  });
}

template <typename Real>
void GemmNT(const Real* a, const Real* b, int64_t n, int64_t k, int64_t m, Real* c, bool accumulate,
            int threads) {
  // Transposing B once (m·k) is cheap next to the product (n·m·k) and turns it into the
  // vectorisable axpy order.
  const std::vector<Real> bt = Transpose(b, m, k);
  GemmNN(a, bt.data(), n, k, m, c, accumulate, threads);
}

template <typename Real>
void GemmTNAcc(const Real* a, const Real* b, int64_t n, int64_t m, int64_t k, Real* c,
               int threads) {
  if constexpr (std::is_same_v<Real, float>) {
    if (TrainAvx2Available()) {
      // Aᵀ read in place (column stride m): no transposed copy.
      ParallelFor(m, threads, n * k, [&](int64_t begin, int64_t end) {
        for (int64_t t0 = 0; t0 < n; t0 += kTile) {
          GemmRowsAvx2(a, 1, m, b, k, c, begin, end, t0, std::min(n, t0 + kTile));
        }
      });
      return;
    }
  }
  // C[i][:] += Σ_t Aᵀ[i][t] · B[t][:], with Aᵀ made contiguous per output row.
  const std::vector<Real> at = Transpose(a, n, m);
  ParallelFor(m, threads, n * k, [&](int64_t begin, int64_t end) {
    for (int64_t t0 = 0; t0 < n; t0 += kTile) {
      const int64_t t1 = std::min(n, t0 + kTile);
      int64_t i = begin;
      // Four rows of C at a time: each row of B loaded is used four times.
      for (; i + 4 <= end; i += 4) {
        Real *c0 = c + i * k, *c1 = c0 + k, *c2 = c1 + k, *c3 = c2 + k;
        const Real* ai = at.data() + i * n;
        for (int64_t t = t0; t < t1; ++t) {
          const Real s0 = ai[t], s1 = ai[n + t], s2 = ai[2 * n + t], s3 = ai[3 * n + t];
          const Real* bt = b + t * k;
          for (int64_t j = 0; j < k; ++j) {
            const Real bj = bt[j];
            c0[j] += s0 * bj;
            c1[j] += s1 * bj;
            c2[j] += s2 * bj;
            c3[j] += s3 * bj;
          }
        }
      }
      for (; i < end; ++i) {
        Real* ci = c + i * k;
        const Real* ai = at.data() + i * n;
        for (int64_t t = t0; t < t1; ++t) {
          const Real s = ai[t];
          const Real* bt = b + t * k;
          for (int64_t j = 0; j < k; ++j) ci[j] += s * bt[j];
        }
      }
    }
  });
}

template void GemmNN<float>(const float*, const float*, int64_t, int64_t, int64_t, float*, bool,
                            int);
template void GemmNN<double>(const double*, const double*, int64_t, int64_t, int64_t, double*, bool,
                             int);
template void GemmNT<float>(const float*, const float*, int64_t, int64_t, int64_t, float*, bool,
                            int);
template void GemmNT<double>(const double*, const double*, int64_t, int64_t, int64_t, double*, bool,
                             int);
template void GemmTNAcc<float>(const float*, const float*, int64_t, int64_t, int64_t, float*, int);
template void GemmTNAcc<double>(const double*, const double*, int64_t, int64_t, int64_t, double*,
                                int);

}  // namespace anser
