// The model switches (ModelVariant) in model files, and the per-head averaging that the scalar
// ablations apply to the decay and in-context-rate parameters.
//
// A file carries its switches as extra float32 tensors of shape (1): "anser.ablate.<name>"
// (value 1) for each ablation, "anser.iclr_mult" (the multiplier) when it is not 1. Official
// RWKV tools and llama.cpp refuse such a file (an unexpected tensor), and Anser honours it;
// a switch tensor this version does not know is refused by name.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "anser/model.h"
#include "io/tensor_store.h"

namespace anser {

struct SwitchTensor {
  std::string name;
  float value = 0.0f;
};

// The switch tensors that describe `variant` (none for the default).
std::vector<SwitchTensor> VariantTensors(const ModelVariant& variant);

// Whether `name` is in the switch tensors' namespace ("anser.").
bool IsSwitchTensorName(const std::string& name);

// The variant the switch tensors of `store` describe (the default when it has none).
Result<ModelVariant> VariantFromStore(const TensorStore& store);

// The scalar ablations keep the per-channel tensors and use, for every channel of a head, the
// mean over that head: a per-head value of the same form (a mean of affine maps is affine).
// Replaces each head's N values by their mean, for `count` vectors of C channels, where channel
// c of vector i is x[i·vector_stride + c·channel_stride]. Being linear and symmetric, the same
// map also takes a gradient with respect to the averaged values back to the stored ones.
template <typename Real>
void AverageWithinHeads(Real* x, int64_t count, int64_t C, int64_t N, int64_t vector_stride,
                        int64_t channel_stride) {
  for (int64_t i = 0; i < count; ++i) {
    Real* v = x + i * vector_stride;
    for (int64_t h = 0; h < C / N; ++h) {
      double sum = 0.0;
      for (int64_t j = 0; j < N; ++j) sum += static_cast<double>(v[(h * N + j) * channel_stride]);
      const Real mean = static_cast<Real>(sum / static_cast<double>(N));
      for (int64_t j = 0; j < N; ++j) v[(h * N + j) * channel_stride] = mean;
    }
  }
}

}  // namespace anser
