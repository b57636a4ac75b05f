#include "train/variant_params.h"

#include <algorithm>

#include "model/variant.h"

namespace anser {

template <typename Real>
const Real* VariantParams<Real>::Averaged(const Real* stored, int64_t count) {
  const int64_t C = config_.n_embd;
  std::vector<Real>& b = buffers_.emplace_back(stored, stored + count * C);
  AverageWithinHeads(b.data(), count, C, config_.head_size, C, 1);
  return b.data();
}

template <typename Real>
const Real* VariantParams<Real>::Constant(Real value) {
  return buffers_.emplace_back(static_cast<size_t>(config_.n_embd), value).data();
}

template <typename Real>
VariantParams<Real>::VariantParams(const ModelConfig& config, ModelRefs<const Real>& refs)
    : config_(config) {
  const ModelVariant& v = config.variant;
  // The refs point into the inner vectors: growing buffers_ moves them, which keeps their data.
  const Real* one = v.shared_keys ? Constant(Real(1)) : nullptr;
  const Real* zero = v.shared_keys || v.no_bonus ? Constant(Real(0)) : nullptr;
  for (LayerRefs<const Real>& L : refs.layers) {
    if (v.scalar_decay) L.w0 = Averaged(L.w0, 1), L.w2 = Averaged(L.w2, config.lora_ranks.w);
    if (v.scalar_iclr) L.a0 = Averaged(L.a0, 1), L.a2 = Averaged(L.a2, config.lora_ranks.a);
    if (v.shared_keys) L.k_k = one, L.k_a = zero;
    if (v.no_bonus) L.r_k = zero;
  }
}

template <typename Real>
void VariantParams<Real>::FoldGradients(ModelRefs<Real>& grads) const {
  const ModelVariant& v = config_.variant;
  const int64_t C = config_.n_embd, N = config_.head_size;
  for (LayerRefs<Real>& G : grads.layers) {
    if (v.scalar_decay) {
      AverageWithinHeads(G.w0, 1, C, N, C, 1);
      AverageWithinHeads(G.w2, config_.lora_ranks.w, C, N, C, 1);
    }
    if (v.scalar_iclr) {
      AverageWithinHeads(G.a0, 1, C, N, C, 1);
      AverageWithinHeads(G.a2, config_.lora_ranks.a, C, N, C, 1);
    }
    if (v.shared_keys) std::fill(G.k_k, G.k_k + C, Real(0)), std::fill(G.k_a, G.k_a + C, Real(0));
    if (v.no_bonus) std::fill(G.r_k, G.r_k + C, Real(0));
  }
}

template class VariantParams<float>;
template class VariantParams<double>;

}  // namespace anser
