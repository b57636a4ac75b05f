// The x070 block forward for training: the formulas of src/model/session.cc over all B·T rows
// at once, keeping the activations for BlockBackward.
#include <algorithm>
#include <cmath>

#include "train/block_train.h"
#include "train/gemm.h"
#include "train/norm_grad.h"
#include "train/token_shift.h"
#include "train/train_constants.h"
#include "train/wkv7_train.h"

namespace anser {

template <typename Real>
void BlockForward(const LayerRefs<const Real>& L, const ModelConfig& cfg, const BatchShape& s,
                  bool first_layer, const Real* init_state, const Real* v_first, const Real* mid_mask,
                  Real* x, BlockActivations<Real>& A) {
  const int64_t rows = s.rows(), C = cfg.n_embd, H = cfg.n_head, N = cfg.head_size, F = cfg.n_ffn;
  const int64_t nc = rows * C;
  const LoraRanks& rk = cfg.lora_ranks;
  const int th = s.threads;
  auto alloc = [](ActivationBuffer<Real>& b, int64_t n) { b.resize(static_cast<size_t>(n)); };
  for (ActivationBuffer<Real>* b : {&A.x_in, &A.h1, &A.r, &A.k_raw, &A.k, &A.v_raw, &A.v, &A.w, &A.w_sig,
                               &A.a, &A.g, &A.kappa, &A.wkv_y, &A.sa, &A.y, &A.x_mid, &A.h2}) {
    alloc(*b, nc);
  }
  for (ActivationBuffer<Real>* b : {&A.ln1_mean, &A.ln1_rstd, &A.ln2_mean, &A.ln2_rstd}) alloc(*b, rows);
  for (ActivationBuffer<Real>* b : {&A.k_norm, &A.gn_mean, &A.gn_rstd}) alloc(*b, rows * H);
  alloc(A.w_lora, rows * rk.w);
  alloc(A.a_lora, rows * rk.a);
  alloc(A.g_lora, rows * rk.g);
  alloc(A.ffn_k, rows * F);
  alloc(A.checkpoints, Wkv7CheckpointSize(s.batch, s.n_tokens, H, N));
  ActivationBuffer<Real> xr(static_cast<size_t>(nc)), tmp(static_cast<size_t>(nc));
  ActivationBuffer<Real> hidden(static_cast<size_t>(rows * F));

  std::copy_n(x, nc, A.x_in.data());
  // h = LayerNorm(x; ln1)
  NormForward(x, L.ln1_w, L.ln1_b, rows, 1, C, kLayerNormEps, A.h1.data(), A.ln1_mean.data(),
              A.ln1_rstd.data());
  // r = W_r·lerp(h, prev, x_r) ; k = W_k·lerp(…, x_k) ; v = W_v·lerp(…, x_v)
  ShiftLerpForward(A.h1.data(), L.x_r, s.batch, s.n_tokens, C, xr.data());
  GemmNT(xr.data(), L.receptance, rows, C, C, A.r.data(), false, th);
  ShiftLerpForward(A.h1.data(), L.x_k, s.batch, s.n_tokens, C, xr.data());
  GemmNT(xr.data(), L.key, rows, C, C, A.k_raw.data(), false, th);
  ShiftLerpForward(A.h1.data(), L.x_v, s.batch, s.n_tokens, C, xr.data());
  GemmNT(xr.data(), L.value, rows, C, C, A.v_raw.data(), false, th);
  // v = v + (v_first − v) ⊙ σ(v0 + (xv·v1)·v2)   (xr still holds xv)
  if (first_layer) {
    std::copy_n(A.v_raw.data(), nc, A.v.data());
  } else {
    alloc(A.v_lora, rows * rk.v);
    alloc(A.v_mix, nc);
    GemmNN(xr.data(), L.v1, rows, C, rk.v, A.v_lora.data(), false, th);
    GemmNN(A.v_lora.data(), L.v2, rows, rk.v, C, A.v_mix.data(), false, th);
    for (int64_t i = 0; i < nc; ++i) {
      const Real m = SigmoidOf(L.v0[i % C] + A.v_mix[i]);
      A.v_mix[i] = m;
      A.v[i] = A.v_raw[i] + (v_first[i] - A.v_raw[i]) * m;
    }
  }
  // w = exp(−0.606531 · σ(w0 + tanh(xw·w1)·w2))
  ShiftLerpForward(A.h1.data(), L.x_w, s.batch, s.n_tokens, C, xr.data());
  GemmNN(xr.data(), L.w1, rows, C, rk.w, A.w_lora.data(), false, th);
  for (Real& q : A.w_lora) q = std::tanh(q);
  GemmNN(A.w_lora.data(), L.w2, rows, rk.w, C, tmp.data(), false, th);
  for (int64_t i = 0; i < nc; ++i) {
    A.w_sig[i] = SigmoidOf(L.w0[i % C] + tmp[i]);
    A.w[i] = std::exp(Real(kDecayScale) * A.w_sig[i]);
  }
  // a = σ(a0 + (xa·a1)·a2)
  ShiftLerpForward(A.h1.data(), L.x_a, s.batch, s.n_tokens, C, xr.data());
  GemmNN(xr.data(), L.a1, rows, C, rk.a, A.a_lora.data(), false, th);
  GemmNN(A.a_lora.data(), L.a2, rows, rk.a, C, tmp.data(), false, th);
  for (int64_t i = 0; i < nc; ++i) A.a[i] = SigmoidOf(L.a0[i % C] + tmp[i]);
  // g = σ(xg·g1)·g2
  ShiftLerpForward(A.h1.data(), L.x_g, s.batch, s.n_tokens, C, xr.data());
  GemmNN(xr.data(), L.g1, rows, C, rk.g, A.g_lora.data(), false, th);
  for (Real& q : A.g_lora) q = SigmoidOf(q);
  GemmNN(A.g_lora.data(), L.g2, rows, rk.g, C, A.g.data(), false, th);
  // κ̂ = normalize_per_head(k ⊙ k_k) = q / max(‖q‖, 1e-12)
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t h = 0; h < H; ++h) {
      const int64_t o = r * C + h * N;
      Real sq = 0;
      for (int64_t j = 0; j < N; ++j) {
        const Real q = A.k_raw[o + j] * L.k_k[h * N + j];
        sq += q * q;
      }
      const Real norm = std::max(std::sqrt(sq), Real(kNormalizeEps));
      A.k_norm[r * H + h] = norm;
      for (int64_t j = 0; j < N; ++j) A.kappa[o + j] = A.k_raw[o + j] * L.k_k[h * N + j] / norm;
    }
  }
  // k = k ⊙ (1 + (a − 1) ⊙ k_a)
  for (int64_t i = 0; i < nc; ++i) A.k[i] = A.k_raw[i] * (Real(1) + (A.a[i] - Real(1)) * L.k_a[i % C]);
  // S = S·diag(w) + (S·(−κ̂))·(κ̂⊙a·c)ᵀ + v·kᵀ ; y = S·r   (c: the removal multiplier, 1 in x070)
  ActivationBuffer<Real>& neg_kappa = xr;
  const Real removal = static_cast<Real>(cfg.variant.removal_scale());
  for (int64_t i = 0; i < nc; ++i) {
    neg_kappa[i] = -A.kappa[i];
    tmp[i] = A.kappa[i] * A.a[i] * removal;
  }
  Wkv7TrainArgs<Real> wkv{s.batch, s.n_tokens, H, N, A.r.data(), A.w.data(), A.k.data(), A.v.data(),
                          neg_kappa.data(), tmp.data(), init_state, th};
  Wkv7TrainForward(wkv, A.wkv_y.data(), A.sa.data(), A.checkpoints.data());
  // y = GroupNorm(y; n_head groups, eps 64e-5, ln_x)
  NormForward(A.wkv_y.data(), L.ln_x_w, L.ln_x_b, rows, H, N, kGroupNormEps, A.y.data(),
              A.gn_mean.data(), A.gn_rstd.data());
  // y = y + (Σ_j r_j k_j r_k[h,j]) · v per head
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t h = 0; h < H; ++h) {
      const int64_t o = r * C + h * N;
      Real dot = 0;
      for (int64_t j = 0; j < N; ++j) dot += A.r[o + j] * A.k[o + j] * L.r_k[h * N + j];
      for (int64_t j = 0; j < N; ++j) A.y[o + j] += dot * A.v[o + j];
    }
  }
  // x = x + W_o·(y ⊙ g)
  for (int64_t i = 0; i < nc; ++i) tmp[i] = A.y[i] * A.g[i];
  GemmNT(tmp.data(), L.output, rows, C, C, xr.data(), false, th);
  for (int64_t i = 0; i < nc; ++i) x[i] += xr[i];
  if (mid_mask != nullptr) {
    for (int64_t i = 0; i < nc; ++i) x[i] *= mid_mask[i];
  }
  std::copy_n(x, nc, A.x_mid.data());
  // Channel mix: h = LayerNorm(x; ln2) ; x = x + W_v_ffn · relu(W_k_ffn · lerp(h, prev, x_k))²
  NormForward(x, L.ln2_w, L.ln2_b, rows, 1, C, kLayerNormEps, A.h2.data(), A.ln2_mean.data(),
              A.ln2_rstd.data());
  ShiftLerpForward(A.h2.data(), L.ffn_x_k, s.batch, s.n_tokens, C, xr.data());
  GemmNT(xr.data(), L.ffn_key, rows, C, F, A.ffn_k.data(), false, th);
  for (int64_t i = 0; i < rows * F; ++i) {
    const Real q = std::max(A.ffn_k[i], Real(0));
    hidden[i] = q * q;
  }
  GemmNT(hidden.data(), L.ffn_value, rows, F, C, tmp.data(), false, th);
  for (int64_t i = 0; i < nc; ++i) x[i] += tmp[i];
}

template void BlockForward<float>(const LayerRefs<const float>&, const ModelConfig&, const BatchShape&,
                                  bool, const float*, const float*, const float*, float*,
                                  BlockActivations<float>&);
template void BlockForward<double>(const LayerRefs<const double>&, const ModelConfig&,
                                   const BatchShape&, bool, const double*, const double*,
                                   const double*, double*, BlockActivations<double>&);

}  // namespace anser
