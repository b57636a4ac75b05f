// The model switches in training. The ablations that replace parameters (model/variant.h) are
// applied to a copy of those parameters for each forward/backward, and their gradients are
// taken back to the stored ones, so the stored tensors and file layout stay the official ones.
// The removal multiplier is part of the block's formulas (block_forward.cc, block_backward.cc).
#pragma once

#include <vector>

#include "anser/model.h"
#include "train/param_refs.h"

namespace anser {

template <typename Real>
class VariantParams {
 public:
  // Points the refs a switch replaces at the values the model runs with: per-head means
  // (scalar decay: w0 and w2; scalar ICLR: a0 and a2) or constants (shared keys: k_k = 1 and
  // k_a = 0; no bonus: r_k = 0). Nothing changes for the default model.
  VariantParams(const ModelConfig& config, ModelRefs<const Real>& refs);

  // Turns the gradients with respect to the values the model ran with into gradients with
  // respect to the stored tensors: the per-head mean again (the averaging is linear and
  // symmetric), zero for the tensors a constant replaced.
  void FoldGradients(ModelRefs<Real>& grads) const;

 private:
  const Real* Averaged(const Real* stored, int64_t count);
  const Real* Constant(Real value);

  ModelConfig config_;
  std::vector<std::vector<Real>> buffers_;
};

}  // namespace anser
