// The official RWKV optimiser: AdamW (bias-corrected moments, decoupled weight decay) with the
// x070 parameter groups, global-norm gradient clipping, and the warm-up + cosine schedule.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "train/params.h"

namespace anser {

struct AdamWOptions {
  double beta1 = 0.9, beta2 = 0.99, eps = 1e-18;
  double weight_decay = 0.0;
};

// The group of a tensor: weight decay only on 2-D `.weight` tensors (emb and head included, the
// LoRA matrices w1…g2 not), and twice the learning rate for `att.w0`.
struct ParamGroup {
  bool decay = false;
  double lr_scale = 1.0;
};
ParamGroup GroupOf(const std::string& name, const std::vector<int64_t>& shape);

// Scales `grads` so their global L2 norm is at most `max_norm` (> 0; 0 disables). Returns the
// norm before clipping.
double ClipGradNorm(std::vector<NamedTensor<float>>& grads, double max_norm);

// One AdamW step (`step` counts from 1) on every tensor: m and v are the moments (same names
// and shapes as params, zeros at first).
void AdamWStep(std::vector<NamedTensor<float>>& params,
               const std::vector<NamedTensor<float>>& grads, std::vector<NamedTensor<float>>& m,
               std::vector<NamedTensor<float>>& v, double lr, int64_t step,
               const AdamWOptions& options, int threads);

// Learning rate of step `step` (from 0) of `total`: linear warm-up lr·(step+1)/warmup, then a
// cosine from lr down to lr_final at the last step.
double ScheduledLr(int64_t step, int64_t total, int64_t warmup, double lr, double lr_final);

}  // namespace anser
