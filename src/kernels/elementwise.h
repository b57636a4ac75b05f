// Small per-vector operations of the forward pass (plain C++; cheap next to the projections).
#pragma once

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

inline float Sigmoid(float x) { return 1.0f / (1.0f + std::exp(-x)); }

}  // namespace anser
