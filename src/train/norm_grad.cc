#include "train/norm_grad.h"

#include <cmath>

namespace anser {

template <typename Real>
void NormForward(const Real* x, const Real* gamma, const Real* beta, int64_t rows,
                 int64_t n_groups, int64_t group_size, double eps, Real* y, Real* mean, Real* rstd) {
  const int64_t width = n_groups * group_size;
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t g = 0; g < n_groups; ++g) {
      const int64_t o = r * width + g * group_size;
      // Statistics in double, as the inference LayerNorm computes them.
      double sum = 0.0;
      for (int64_t i = 0; i < group_size; ++i) sum += x[o + i];
      const double mu = sum / static_cast<double>(group_size);
      double sq = 0.0;
      for (int64_t i = 0; i < group_size; ++i) sq += (x[o + i] - mu) * (x[o + i] - mu);
      const Real m = static_cast<Real>(mu);
      const Real inv = static_cast<Real>(1.0 / std::sqrt(sq / static_cast<double>(group_size) + eps));
      mean[r * n_groups + g] = m;
      rstd[r * n_groups + g] = inv;
      for (int64_t i = 0; i < group_size; ++i) {
        const int64_t c = g * group_size + i;
        y[o + i] = (x[o + i] - m) * inv * gamma[c] + beta[c];
      }
    }
  }
}

template <typename Real>
void NormBackward(const Real* x, const Real* gamma, const Real* mean, const Real* rstd,
                  const Real* dy, int64_t rows, int64_t n_groups, int64_t group_size, Real* dx,
                  Real* dgamma, Real* dbeta) {
  const int64_t width = n_groups * group_size;
  const Real inv_n = Real(1) / static_cast<Real>(group_size);
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t g = 0; g < n_groups; ++g) {
      const int64_t o = r * width + g * group_size;
      const Real m = mean[r * n_groups + g], inv = rstd[r * n_groups + g];
      Real sum_d = 0, sum_dx = 0;
      for (int64_t i = 0; i < group_size; ++i) {
        const int64_t c = g * group_size + i;
        const Real xhat = (x[o + i] - m) * inv;
        const Real d = dy[o + i] * gamma[c];
        sum_d += d;
        sum_dx += d * xhat;
        if (dgamma != nullptr) {
          dgamma[c] += dy[o + i] * xhat;
          dbeta[c] += dy[o + i];
        }
      }
      const Real mean_d = sum_d * inv_n, mean_dx = sum_dx * inv_n;
      for (int64_t i = 0; i < group_size; ++i) {
        const int64_t c = g * group_size + i;
        const Real xhat = (x[o + i] - m) * inv;
        dx[o + i] += inv * (dy[o + i] * gamma[c] - mean_d - xhat * mean_dx);
      }
    }
  }
}

template void NormForward<float>(const float*, const float*, const float*, int64_t, int64_t, int64_t,
                                 double, float*, float*, float*);
template void NormForward<double>(const double*, const double*, const double*, int64_t, int64_t,
                                  int64_t, double, double*, double*, double*);
template void NormBackward<float>(const float*, const float*, const float*, const float*, const float*,
                                  int64_t, int64_t, int64_t, float*, float*, float*);
template void NormBackward<double>(const double*, const double*, const double*, const double*,
                                   const double*, int64_t, int64_t, int64_t, double*, double*, double*);

}  // namespace anser
