#include "train/gemm.h"

#include <algorithm>
#include <vector>

#include "train/parallel.h"

namespace anser {
namespace {

// Rows of B kept hot in cache while every row of A in a thread's range uses them.
constexpr int64_t kTile = 64;

// out[cols][rows] = in[rows][cols]ᵀ
template <typename Real>
std::vector<Real> Transpose(const Real* in, int64_t rows, int64_t cols) {
  std::vector<Real> out(static_cast<size_t>(rows * cols));
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t c = 0; c < cols; ++c) out[static_cast<size_t>(c * rows + r)] = in[r * cols + c];
  }
  return out;
}

}  // namespace

template <typename Real>
void GemmNN(const Real* a, const Real* b, int64_t n, int64_t k, int64_t m, Real* c,
            bool accumulate, int threads) {
  ParallelFor(n, threads, k * m, [&](int64_t begin, int64_t end) {
    if (!accumulate) std::fill(c + begin * m, c + end * m, Real(0));
    for (int64_t p0 = 0; p0 < k; p0 += kTile) {
      const int64_t p1 = std::min(k, p0 + kTile);
      for (int64_t i = begin; i < end; ++i) {
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
void GemmNT(const Real* a, const Real* b, int64_t n, int64_t k, int64_t m, Real* c,
            bool accumulate, int threads) {
  // Transposing B once (m·k) is cheap next to the product (n·m·k) and turns it into the
  // vectorisable axpy order.
  const std::vector<Real> bt = Transpose(b, m, k);
  GemmNN(a, bt.data(), n, k, m, c, accumulate, threads);
}

template <typename Real>
void GemmTNAcc(const Real* a, const Real* b, int64_t n, int64_t m, int64_t k, Real* c,
               int threads) {
  // C[i][:] += Σ_t Aᵀ[i][t] · B[t][:], with Aᵀ made contiguous per output row.
  const std::vector<Real> at = Transpose(a, n, m);
  ParallelFor(m, threads, n * k, [&](int64_t begin, int64_t end) {
    for (int64_t t0 = 0; t0 < n; t0 += kTile) {
      const int64_t t1 = std::min(n, t0 + kTile);
      for (int64_t i = begin; i < end; ++i) {
        Real* ci = c + i * k;
        const Real* ai = at.data() + i * n;
        for (int64_t t = t0; t < t1; ++t) {
          const Real s = ai[t];
          if (s == Real(0)) continue;  // ReLU² and one-hot-like rows are sparse
          const Real* bt = b + t * k;
          for (int64_t j = 0; j < k; ++j) ci[j] += s * bt[j];
        }
      }
    }
  });
}

template void GemmNN<float>(const float*, const float*, int64_t, int64_t, int64_t, float*, bool, int);
template void GemmNN<double>(const double*, const double*, int64_t, int64_t, int64_t, double*, bool, int);
template void GemmNT<float>(const float*, const float*, int64_t, int64_t, int64_t, float*, bool, int);
template void GemmNT<double>(const double*, const double*, int64_t, int64_t, int64_t, double*, bool, int);
template void GemmTNAcc<float>(const float*, const float*, int64_t, int64_t, int64_t, float*, int);
template void GemmTNAcc<double>(const double*, const double*, int64_t, int64_t, int64_t, double*, int);

}  // namespace anser
