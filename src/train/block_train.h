// One x070 block (time mix + channel mix) in the sequence form over B sequences × T tokens:
// a forward that keeps the activations its backward needs, and that backward. Row b·T + t of
// every (rows, ·) buffer is token t of sequence b; rows = B·T.
#pragma once

#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

#include "anser/model.h"
#include "train/param_refs.h"

namespace anser {

struct BatchShape {
  int64_t batch = 0;     // B
  int64_t n_tokens = 0;  // T
  int threads = 1;
  int64_t rows() const { return batch * n_tokens; }
};

// A vector whose resize leaves new elements uninitialised (for the trivial types it holds):
// the forward writes every activation in full before anything reads it, and zero-filling them
// first was 5–7 % of a training step.
template <typename T>
struct UninitializedAllocator : std::allocator<T> {
  template <typename U>
  struct rebind {
    using other = UninitializedAllocator<U>;
  };
  UninitializedAllocator() = default;
  template <typename U>
  UninitializedAllocator(const UninitializedAllocator<U>&) noexcept {}
  template <typename U>
  void construct(U*) noexcept {}
  template <typename U, typename... Args>
  void construct(U* p, Args&&... args) {
    ::new (static_cast<void*>(p)) U(std::forward<Args>(args)...);
  }
};
template <typename Real>
using ActivationBuffer = std::vector<Real, UninitializedAllocator<Real>>;

// What the backward of one block reads. (rows, n_embd) unless noted. The lerp outputs
// (xr … xg, the ffn's xk) are not kept: the backward recomputes them from h1/h2.
template <typename Real>
struct BlockActivations {
  ActivationBuffer<Real> x_in, ln1_mean, ln1_rstd, h1;  // ln1 statistics: (rows)
  ActivationBuffer<Real> r, k_raw, k, v_raw, v;         // k_raw = W_k·xk, k after k_a; v_raw = W_v·xv
  ActivationBuffer<Real> w, w_sig, w_lora;              // w_sig = σ(w0 + …); w_lora = tanh(xw·w1) (rows, rank_w)
  ActivationBuffer<Real> a, a_lora;                     // a_lora = xa·a1 (rows, rank_a)
  ActivationBuffer<Real> g, g_lora;                     // g_lora = σ(xg·g1) (rows, rank_g)
  ActivationBuffer<Real> v_mix, v_lora;                 // v_mix = σ(v0 + …); v_lora = xv·v1 (rows, rank_v); not in layer 0
  ActivationBuffer<Real> kappa, k_norm;                 // κ̂ and max(‖k⊙k_k‖, eps) per head (rows, n_head)
  ActivationBuffer<Real> wkv_y, sa, checkpoints;        // WKV output, S·a per token, states (wkv7_train.h)
  ActivationBuffer<Real> gn_mean, gn_rstd;              // ln_x statistics (rows, n_head)
  ActivationBuffer<Real> y;                             // GroupNorm output plus the r_k bonus, before the gate
  ActivationBuffer<Real> x_mid, ln2_mean, ln2_rstd, h2; // x after the time mix
  ActivationBuffer<Real> ffn_k;                         // W_k_ffn·xk before ReLU² (rows, n_ffn)
};

// x (rows, n_embd) goes in and comes out after the block. Layer 0's A.v is v_first, which later
// layers read (null for layer 0). init_state (n_head, N, N) is the WKV state before token
// 0 of every sequence (null: zeros). mid_mask (rows, n_embd), unless null, multiplies x after
// the time mix (dropout; train/dropout.h).
template <typename Real>
void BlockForward(const LayerRefs<const Real>& L, const ModelConfig& cfg, const BatchShape& s,
                  bool first_layer, const Real* init_state, const Real* v_first, const Real* mid_mask,
                  Real* x, BlockActivations<Real>& A);

// dx holds ∂loss/∂(block output) and is replaced by ∂loss/∂(block input). dv_first (rows,
// n_embd) collects ∂loss/∂v_first from layers > 0 and is consumed by layer 0. Parameter
// gradients are added to G unless it is null (model frozen); dstate (n_head, N, N), unless
// null, receives the initial state's gradient summed over the batch. mid_mask is the forward's.
template <typename Real>
void BlockBackward(const LayerRefs<const Real>& L, const LayerRefs<Real>* G, const ModelConfig& cfg,
                   const BatchShape& s, bool first_layer, const Real* init_state, const Real* v_first,
                   const Real* mid_mask, const BlockActivations<Real>& A, Real* dx, Real* dv_first,
                   Real* dstate);

}  // namespace anser
