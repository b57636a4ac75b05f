// The x070 constants, shared by the training forward and backward (the same values as the
// inference forward in src/model/session.cc).
#pragma once

#include <cmath>

namespace anser {

constexpr double kLayerNormEps = 1e-5;
constexpr double kGroupNormEps = 64e-5;
constexpr double kDecayScale = -0.606531;  // w = exp(−e^−0.5 · σ(·))
constexpr double kNormalizeEps = 1e-12;    // torch.nn.functional.normalize

template <typename Real>
Real SigmoidOf(Real x) {
  return Real(1) / (Real(1) + std::exp(-x));
}

}  // namespace anser
