// The output head with the mean next-token cross-entropy, fused with its backward so the
// logits are only ever held for a block of rows (n_vocab can be 65536).
#pragma once

#include <cstdint>

namespace anser {

struct LossOptions {
  int64_t n_total = 1;   // rows the mean is over (B·T of the whole batch)
  bool l2wrap = false;   // add max_logit·1e-4/n_total to each row's largest logit's gradient
  int threads = 1;
};

// logits = xf·headᵀ for `rows` rows (xf (rows, C), head (V, C)); returns
// Σ_rows (logsumexp(logits) − logits[target]) (the caller divides by n_total). Writes
// dxf = dlogits·head and, unless dhead is null, adds dhead += dlogitsᵀ·xf, where
// dlogits = (softmax(logits) − onehot(target)) / n_total (+ the L2Wrap term).
template <typename Real>
double HeadCrossEntropy(const Real* xf, const Real* head, const int* targets, int64_t rows,
                        int64_t C, int64_t V, const LossOptions& options, Real* dxf, Real* dhead);

}  // namespace anser
