// Small per-vector operations of the forward pass (plain C++; cheap next to the projections).
#pragma once

#include <bit>
#include <cmath>
#include <cstdint>

namespace anser {

// y = (x − mean) / sqrt(var + eps) · weight + bias over n values (y may alias x).
void LayerNorm(const float* x, const float* weight, const float* bias, int64_t n, float eps,
               float* y);

// LayerNorm over each of n_groups consecutive groups of group_size values, then the per-channel
// affine (weight, bias have n_groups·group_size values). In place.
void GroupNorm(float* x, const float* weight, const float* bias, int64_t n_groups,
               int64_t group_size, float eps);

// e^x within 2 ulp over [−87, 88], saturating outside it (to e^−87 ≈ 1.6e−38 and e^88). Written
// without branches or library calls so that the per-token loops over it vectorize: std::exp is a
// call per element, and these loops run thousands of times per token.
inline float Exp(float x) {
  x = x < -87.0f ? -87.0f : x;  // selects, not std::min/max: those keep the loops from vectorizing
  x = x > 88.0f ? 88.0f : x;
  constexpr float kRound = 12582912.0f;  // 1.5·2^23: adding it rounds to an integer
  const float shifted = x * 1.44269504f + kRound;
  const float n = shifted - kRound;
  // n as an integer, modulo 2^32: the low bits of `shifted` (|n| ≤ 127 here). Unlike a
  // float-to-int cast this is defined for a NaN x (whose result stays NaN).
  const uint32_t n_int = std::bit_cast<uint32_t>(shifted) - std::bit_cast<uint32_t>(kRound);
  // x − n·ln2 in two parts (Cody–Waite), so the reduction itself adds no error.
  const float r = (x - n * 0.693359375f) - n * -2.12194440e-4f;
  // e^r on [−ln2/2, ln2/2] (Cephes' minimax coefficients).
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r * r + r + 1.0f;
  return p * std::bit_cast<float>((n_int + 127u) << 23);
}

inline float Sigmoid(float x) { return 1.0f / (1.0f + Exp(-x)); }

inline float Tanh(float x) { return 2.0f / (1.0f + Exp(-2.0f * x)) - 1.0f; }

}  // namespace anser
