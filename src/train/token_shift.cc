#include "train/token_shift.h"

namespace anser {

template <typename Real>
void ShiftLerpForward(const Real* h, const Real* mu, int64_t B, int64_t T, int64_t C, Real* out) {
  for (int64_t b = 0; b < B; ++b) {
    for (int64_t t = 0; t < T; ++t) {
      const int64_t o = (b * T + t) * C;
      for (int64_t c = 0; c < C; ++c) {
        const Real prev = t == 0 ? Real(0) : h[o - C + c];
        out[o + c] = h[o + c] + (prev - h[o + c]) * mu[c];
      }
    }
  }
}

template <typename Real>
void ShiftLerpBackward(const Real* h, const Real* mu, const Real* dout, int64_t B, int64_t T,
                       int64_t C, Real* dh, Real* dmu) {
  for (int64_t b = 0; b < B; ++b) {
    for (int64_t t = 0; t < T; ++t) {
      const int64_t o = (b * T + t) * C;
      for (int64_t c = 0; c < C; ++c) {
        const Real prev = t == 0 ? Real(0) : h[o - C + c];
        dh[o + c] += dout[o + c] * (Real(1) - mu[c]);
        if (t > 0) dh[o - C + c] += dout[o + c] * mu[c];
        if (dmu != nullptr) dmu[c] += dout[o + c] * (prev - h[o + c]);
      }
    }
  }
}

template void ShiftLerpForward<float>(const float*, const float*, int64_t, int64_t, int64_t, float*);
template void ShiftLerpForward<double>(const double*, const double*, int64_t, int64_t, int64_t, double*);
template void ShiftLerpBackward<float>(const float*, const float*, const float*, int64_t, int64_t,
                                       int64_t, float*, float*);
template void ShiftLerpBackward<double>(const double*, const double*, const double*, int64_t, int64_t,
                                        int64_t, double*, double*);

}  // namespace anser
