#include "train/adamw.h"

#include <algorithm>
#include <cmath>

#include "train/parallel.h"

namespace anser {

ParamGroup GroupOf(const std::string& name, const std::vector<int64_t>& shape) {
  ParamGroup g;
  auto ends_with = [&name](const std::string& suffix) {
    return name.size() >= suffix.size() &&
           name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0;
  };
  g.decay = shape.size() == 2 && ends_with(".weight");
  if (ends_with("att.w0")) g.lr_scale = 2.0;
  return g;
}

double ClipGradNorm(std::vector<NamedTensor<float>>& grads, double max_norm) {
  double sum = 0.0;
  for (const NamedTensor<float>& g : grads) {
    for (float x : g.data) sum += static_cast<double>(x) * x;
  }
  const double norm = std::sqrt(sum);
  // torch.nn.utils.clip_grad_norm_'s rule (its 1e-6 keeps a zero norm finite).
  if (max_norm > 0.0 && norm > max_norm) {
    const auto scale = static_cast<float>(max_norm / (norm + 1e-6));
    for (NamedTensor<float>& g : grads) {
      for (float& x : g.data) x *= scale;
    }
  }
  return norm;
}

void AdamWStep(std::vector<NamedTensor<float>>& params,
               const std::vector<NamedTensor<float>>& grads, std::vector<NamedTensor<float>>& m,
               std::vector<NamedTensor<float>>& v, double lr, int64_t step, const AdamWOptions& o,
               int threads) {
  const double c1 = 1.0 - std::pow(o.beta1, static_cast<double>(step));
  const double c2 = 1.0 - std::pow(o.beta2, static_cast<double>(step));
  for (size_t t = 0; t < params.size(); ++t) {
    const ParamGroup group = GroupOf(params[t].name, params[t].shape);
    const double a = lr * group.lr_scale;
    const auto decay = static_cast<float>(1.0 - (group.decay ? a * o.weight_decay : 0.0));
    const auto b1 = static_cast<float>(o.beta1), b2 = static_cast<float>(o.beta2);
    const auto step_size = static_cast<float>(a / c1),
               rc2 = static_cast<float>(1.0 / std::sqrt(c2));
    const auto eps = static_cast<float>(o.eps);
    float* p = params[t].data.data();
    float* mt = m[t].data.data();
    float* vt = v[t].data.data();
    const float* g = grads[t].data.data();
    ParallelFor(static_cast<int64_t>(params[t].data.size()), threads, 16,
                [&](int64_t begin, int64_t end) {
                  for (int64_t i = begin; i < end; ++i) {
                    mt[i] = b1 * mt[i] + (1.0f - b1) * g[i];
                    vt[i] = b2 * vt[i] + (1.0f - b2) * g[i] * g[i];
                    // p ← p·(1 − lr·wd) − lr·m̂/(√v̂ + eps), as torch.optim.AdamW
                    p[i] = p[i] * decay - step_size * mt[i] / (std::sqrt(vt[i]) * rc2 + eps);
                  }
                });
  }
}

double ScheduledLr(int64_t step, int64_t total, int64_t warmup, double lr, double lr_final) {
  if (step < warmup) return lr * static_cast<double>(step + 1) / static_cast<double>(warmup);
  const int64_t span = std::max<int64_t>(1, total - 1 - warmup);
  const double progress =
      std::min(1.0, static_cast<double>(step - warmup) / static_cast<double>(span));
  return lr_final + 0.5 * (lr - lr_final) * (1.0 + std::cos(3.141592653589793 * progress));
}

}  // namespace anser
