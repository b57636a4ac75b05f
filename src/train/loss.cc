#include "train/loss.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "train/gemm.h"

namespace anser {
namespace {

constexpr int64_t kRowBlock = 128;  // rows of logits alive at once
constexpr double kL2WrapFactor = 1e-4;

}  // namespace

template <typename Real>
double HeadCrossEntropy(const Real* xf, const Real* head, const int* targets, int64_t rows,
                        int64_t C, int64_t V, const LossOptions& options, Real* dxf, Real* dhead) {
  std::vector<Real> logits(static_cast<size_t>(std::min(rows, kRowBlock) * V));
  const double scale = 1.0 / static_cast<double>(options.n_total);
  double loss = 0.0;
  for (int64_t r0 = 0; r0 < rows; r0 += kRowBlock) {
    const int64_t n = std::min(kRowBlock, rows - r0);
    // logits = head·x
    GemmNT(xf + r0 * C, head, n, C, V, logits.data(), false, options.threads);
    for (int64_t r = 0; r < n; ++r) {
      Real* z = logits.data() + r * V;
      const int64_t best = std::max_element(z, z + V) - z;
      const double zmax = z[best];
      double sum = 0.0;
      for (int64_t i = 0; i < V; ++i) sum += std::exp(static_cast<double>(z[i]) - zmax);
      const double lse = zmax + std::log(sum);
      const int target = targets[r0 + r];
      // loss_row = logsumexp(z) − z[target] ;  ∂/∂z = softmax(z) − onehot(target)
      loss += lse - static_cast<double>(z[target]);
      for (int64_t i = 0; i < V; ++i) {
        z[i] = static_cast<Real>(std::exp(static_cast<double>(z[i]) - lse) * scale);
      }
      z[target] -= static_cast<Real>(scale);
      // L2Wrap: the gradient of max_logit²·1e-4/(2·B·T), the official regulariser's grad.
      if (options.l2wrap) z[best] += static_cast<Real>(zmax * kL2WrapFactor * scale);
    }
    GemmNN(logits.data(), head, n, V, C, dxf + r0 * C, false, options.threads);
    if (dhead != nullptr) GemmTNAcc(logits.data(), xf + r0 * C, n, V, C, dhead, options.threads);
  }
  return loss;
}

template double HeadCrossEntropy<float>(const float*, const float*, const int*, int64_t, int64_t,
                                        int64_t, const LossOptions&, float*, float*);
template double HeadCrossEntropy<double>(const double*, const double*, const int*, int64_t, int64_t,
                                         int64_t, const LossOptions&, double*, double*);

}  // namespace anser
