#include "kernels/elementwise.h"

namespace anser {

void LayerNorm(const float* x, const float* weight, const float* bias, int64_t n, float eps,
               float* y) {
  // Two passes in double: the statistics are a negligible cost and this keeps the rounding
  // error far below the fixtures' tolerance even for wide rows.
  double sum = 0.0;
  for (int64_t i = 0; i < n; ++i) sum += x[i];
  const double mean = sum / static_cast<double>(n);
  double sq = 0.0;
  for (int64_t i = 0; i < n; ++i) {
    const double d = x[i] - mean;
    sq += d * d;
  }
  const float inv = static_cast<float>(1.0 / std::sqrt(sq / static_cast<double>(n) + eps));
  const float m = static_cast<float>(mean);
  for (int64_t i = 0; i < n; ++i) y[i] = (x[i] - m) * inv * weight[i] + bias[i];
}

void GroupNorm(float* x, const float* weight, const float* bias, int64_t n_groups,
               int64_t group_size, float eps) {
  for (int64_t g = 0; g < n_groups; ++g) {
    const int64_t o = g * group_size;
    LayerNorm(x + o, weight + o, bias + o, group_size, eps, x + o);
  }
}

}  // namespace anser
