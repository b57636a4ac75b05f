// LayerNorm and GroupNorm with their backward, over `rows` rows of n_groups·group_size values:
// per group ŷ = (x − mean)·rstd, rstd = 1/sqrt(var + eps) (biased variance, as torch), then
// y = ŷ⊙γ + β per channel. LayerNorm is one group of n_embd; RWKV-7's ln_x is n_head groups.
#pragma once

#include <cstdint>

namespace anser {

// Writes y and the per-(row, group) statistics mean and rstd (rows·n_groups values each).
template <typename Real>
void NormForward(const Real* x, const Real* gamma, const Real* beta, int64_t rows,
                 int64_t n_groups, int64_t group_size, double eps, Real* y, Real* mean, Real* rstd);

// From dy: dx += rstd·(dŷ − mean(dŷ) − ŷ·mean(dŷ⊙ŷ)) with dŷ = dy⊙γ, per group;
// dgamma += Σ_rows dy⊙ŷ and dbeta += Σ_rows dy unless they are null (frozen model).
template <typename Real>
void NormBackward(const Real* x, const Real* gamma, const Real* mean, const Real* rstd,
                  const Real* dy, int64_t rows, int64_t n_groups, int64_t group_size, Real* dx,
                  Real* dgamma, Real* dbeta);

}  // namespace anser
