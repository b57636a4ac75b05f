#include "train/orthogonal_init.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "train/gemm.h"
#include "train/parallel.h"

namespace anser {
namespace {

// Vectors orthonormalised together: projected as a block by two matrix products, then among
// themselves by Gram-Schmidt.
constexpr int64_t kLeaf = 16;

// v[i] = rng.Normal() for i < n, in stream order. splitmix64 is a counter (each draw advances
// the state by one constant), so each thread jumps to its part of the stream: the values do not
// depend on the split.
void FillNormal(float* v, int64_t n, SplitMix64& rng, int threads) {
  const SplitMix64 start = rng;
  ParallelFor(n, threads, 64, [&](int64_t begin, int64_t end) {
    SplitMix64 part = start;
    part.Skip(2 * static_cast<uint64_t>(begin));  // Normal() takes two draws
    for (int64_t i = begin; i < end; ++i) v[i] = static_cast<float>(part.Normal());
  });
  rng.Skip(2 * static_cast<uint64_t>(n));
}

double SquaredNorm(const float* x, int64_t p) {
  double s = 0;
  for (int64_t t = 0; t < p; ++t) s += static_cast<double>(x[t]) * x[t];
  return s;
}

double Dot(const double* x, const double* y, int64_t p) {
  // Four partial sums: independent chains the CPU overlaps (and a fixed order, so a fixed result).
  double s[4] = {0, 0, 0, 0};
  int64_t t = 0;
  for (; t + 4 <= p; t += 4) {
    for (int l = 0; l < 4; ++l) s[l] += x[t + l] * y[t + l];
  }
  for (; t < p; ++t) s[0] += x[t] * y[t];
  return (s[0] + s[1]) + (s[2] + s[3]);
}

// Rows [j0, j1) of v (rows of length p) lose their components along rows [0, j0), which are
// orthonormal: classical Gram-Schmidt as two matrix products. Returns the smallest share of
// a row's squared norm that remained.
double ProjectOut(float* v, int64_t p, int64_t j0, int64_t j1, int threads) {
  const int64_t b = j1 - j0, m = j0;
  if (m == 0) return 1.0;
  std::vector<double> before(static_cast<size_t>(b));
  for (int64_t j = 0; j < b; ++j) before[j] = SquaredNorm(v + (j0 + j) * p, p);
  // The coefficients as (earlier rows)·(block rows)ᵀ: GemmNT then transposes only the block.
  std::vector<float> coef_t(static_cast<size_t>(m * b)), coef(static_cast<size_t>(b * m));
  GemmNT(v, v + j0 * p, m, p, b, coef_t.data(), false, threads);
  for (int64_t i = 0; i < m; ++i) {
    for (int64_t j = 0; j < b; ++j) coef[j * m + i] = -coef_t[i * b + j];
  }
  GemmNN(coef.data(), v, b, m, p, v + j0 * p, true, threads);
  double kept = 1.0;
  for (int64_t j = 0; j < b; ++j)
    kept = std::min(kept, SquaredNorm(v + (j0 + j) * p, p) / before[j]);
  return kept;
}

// Rows [j0, j1) of v made orthonormal among themselves: modified Gram-Schmidt in double.
// Returns the smallest share of a row's squared norm that remained before normalising.
double OrthonormaliseBlock(float* v, int64_t p, int64_t j0, int64_t j1) {
  const int64_t b = j1 - j0;
  std::vector<double> w(v + j0 * p, v + j1 * p);
  double kept = 1.0;
  for (int64_t j = 0; j < b; ++j) {
    double* wj = w.data() + j * p;
    const double before = Dot(wj, wj, p);
    for (int64_t i = 0; i < j; ++i) {
      const double* wi = w.data() + i * p;
      const double dot = Dot(wi, wj, p);
      for (int64_t t = 0; t < p; ++t) wj[t] -= dot * wi[t];
    }
    const double after = Dot(wj, wj, p);
    kept = std::min(kept, after / before);
    const double scale = 1.0 / std::sqrt(after);
    for (int64_t t = 0; t < p; ++t) wj[t] *= scale;
  }
  std::transform(w.begin(), w.end(), v + j0 * p, [](double x) { return static_cast<float>(x); });
  return kept;
}

// The q rows of v (each of length p ≥ q) made orthonormal in order, as Gram-Schmidt does, with
// nearly all the work in matrix products. Rounding leaves a block with components of about
// ε·|row before| / |row after| along the earlier rows, so a block where some row lost more than
// half its squared norm is done a second time ("twice is enough"); for tall matrices that is
// rare, for square ones it is the later half.
void OrthonormaliseRows(float* v, int64_t q, int64_t p, int threads) {
  for (int64_t j0 = 0; j0 < q; j0 += kLeaf) {
    const int64_t j1 = std::min(q, j0 + kLeaf);
    for (int round = 0; round < 2; ++round) {
      const double kept_outside = ProjectOut(v, p, j0, j1, threads);
      if (std::min(kept_outside, OrthonormaliseBlock(v, p, j0, j1)) >= 0.5) break;
    }
  }
}

}  // namespace

void OrthogonalInit(float* out, int64_t rows, int64_t cols, double gain, SplitMix64& rng,
                    int threads) {
  if (rows > cols) gain *= std::sqrt(static_cast<double>(rows) / static_cast<double>(cols));
  const int64_t p = std::max(rows, cols), q = std::min(rows, cols);
  std::vector<float> v(static_cast<size_t>(p * q));
  FillNormal(v.data(), p * q, rng, threads);
  OrthonormaliseRows(v.data(), q, p, threads);
  const float g = static_cast<float>(gain);
  if (rows < cols) {  // wide: row r is vector r
    std::transform(v.begin(), v.end(), out, [g](float x) { return g * x; });
    return;
  }
  // Tall: column c is vector c, written in 32×32 blocks so reads and writes both stay in cache.
  constexpr int64_t kBlock = 32;
  for (int64_t r0 = 0; r0 < rows; r0 += kBlock) {
    for (int64_t c0 = 0; c0 < cols; c0 += kBlock) {
      for (int64_t r = r0; r < std::min(rows, r0 + kBlock); ++r) {
        for (int64_t c = c0; c < std::min(cols, c0 + kBlock); ++c)
          out[r * cols + c] = g * v[static_cast<size_t>(c * p + r)];
      }
    }
  }
}

}  // namespace anser
