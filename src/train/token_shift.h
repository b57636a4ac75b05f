// The token shift with its lerp, over B sequences of T rows of C channels:
//   out[t] = lerp(h[t], h[t−1], μ) = h[t] + (h[t−1] − h[t])⊙μ,  h[−1] = 0 (zero shift state).
#pragma once

#include <cstdint>

namespace anser {

template <typename Real>
void ShiftLerpForward(const Real* h, const Real* mu, int64_t B, int64_t T, int64_t C, Real* out);

// dh[t] += dout[t]⊙(1 − μ) + dout[t+1]⊙μ (within the sequence);
// dmu += Σ_t dout[t]⊙(h[t−1] − h[t]) unless dmu is null.
template <typename Real>
void ShiftLerpBackward(const Real* h, const Real* mu, const Real* dout, int64_t B, int64_t T,
                       int64_t C, Real* dh, Real* dmu);

}  // namespace anser
