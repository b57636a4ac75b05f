// The x070 block backward. Each step names the forward formula it differentiates; the blocks
// run in the reverse order of BlockForward.
#include <algorithm>
#include <cmath>

#include "train/block_train.h"
#include "train/gemm.h"
#include "train/norm_grad.h"
#include "train/token_shift.h"
#include "train/train_constants.h"
#include "train/wkv7_train.h"

namespace anser {
namespace {

// Σ over rows of m (rows, C) into out (C), for the gradient of a per-channel bias.
template <typename Real>
void AddColumnSums(const Real* m, int64_t rows, int64_t C, Real* out) {
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t c = 0; c < C; ++c) out[c] += m[r * C + c];
  }
}

}  // namespace

template <typename Real>
void BlockBackward(const LayerRefs<const Real>& L, const LayerRefs<Real>* G, const ModelConfig& cfg,
                   const BatchShape& s, bool first_layer, const Real* init_state, const Real* v_first,
                   const Real* mid_mask, const BlockActivations<Real>& A, Real* dx, Real* dv_first,
                   Real* dstate) {
  const int64_t rows = s.rows(), C = cfg.n_embd, H = cfg.n_head, N = cfg.head_size, F = cfg.n_ffn;
  const int64_t nc = rows * C, B = s.batch, T = s.n_tokens;
  const LoraRanks& rk = cfg.lora_ranks;
  const int th = s.threads;
  using Buf = std::vector<Real>;
  auto buf = [](int64_t n) { return Buf(static_cast<size_t>(n), Real(0)); };

  // ---- channel mix: x_out = x_mid + W_v_ffn · relu(k_ffn)², k_ffn = W_k_ffn · lerp(h2, prev, x_k)
  // dx passes through the residual unchanged; the branch adds to it below.
  {
    Buf hidden = buf(rows * F), dhidden = buf(rows * F), xk = buf(nc), dxk = buf(nc), dh = buf(nc);
    for (int64_t i = 0; i < rows * F; ++i) {
      const Real q = std::max(A.ffn_k[i], Real(0));
      hidden[i] = q * q;
    }
    if (G) GemmTNAcc(dx, hidden.data(), rows, C, F, G->ffn_value, th);
    GemmNN(dx, L.ffn_value, rows, C, F, dhidden.data(), false, th);
    // relu(q)² ⇒ d/dq = 2·relu(q)
    for (int64_t i = 0; i < rows * F; ++i) dhidden[i] *= Real(2) * std::max(A.ffn_k[i], Real(0));
    ShiftLerpForward(A.h2.data(), L.ffn_x_k, B, T, C, xk.data());
    if (G) GemmTNAcc(dhidden.data(), xk.data(), rows, F, C, G->ffn_key, th);
    GemmNN(dhidden.data(), L.ffn_key, rows, F, C, dxk.data(), false, th);
    ShiftLerpBackward(A.h2.data(), L.ffn_x_k, dxk.data(), B, T, C, dh.data(), G ? G->ffn_x_k : nullptr);
    // h2 = LayerNorm(x_mid; ln2)
    NormBackward(A.x_mid.data(), L.ln2_w, A.ln2_mean.data(), A.ln2_rstd.data(), dh.data(), rows, 1, C,
                 dx, G ? G->ln2_w : nullptr, G ? G->ln2_b : nullptr);
  }

  // ---- time mix: x_mid = (x_in + W_o·(y ⊙ g)) ⊙ mid_mask
  if (mid_mask != nullptr) {
    for (int64_t i = 0; i < nc; ++i) dx[i] *= mid_mask[i];
  }
  Buf dr = buf(nc), dk = buf(nc), dv = buf(nc), dg = buf(nc), dy = buf(nc), tmp = buf(nc);
  for (int64_t i = 0; i < nc; ++i) tmp[i] = A.y[i] * A.g[i];
  if (G) GemmTNAcc(dx, tmp.data(), rows, C, C, G->output, th);
  GemmNN(dx, L.output, rows, C, C, tmp.data(), false, th);  // tmp = d(y ⊙ g)
  for (int64_t i = 0; i < nc; ++i) {
    dy[i] = tmp[i] * A.g[i];
    dg[i] = tmp[i] * A.y[i];
  }
  // y = GroupNorm(wkv_y) + (Σ_j r_j k_j r_k[h,j]) · v per head
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t h = 0; h < H; ++h) {
      const int64_t o = r * C + h * N;
      const Real* rk_h = L.r_k + h * N;
      Real dot = 0, ddot = 0;
      for (int64_t j = 0; j < N; ++j) {
        dot += A.r[o + j] * A.k[o + j] * rk_h[j];
        ddot += dy[o + j] * A.v[o + j];
      }
      for (int64_t j = 0; j < N; ++j) {
        dv[o + j] += dot * dy[o + j];
        dr[o + j] += ddot * A.k[o + j] * rk_h[j];
        dk[o + j] += ddot * A.r[o + j] * rk_h[j];
        if (G) G->r_k[h * N + j] += ddot * A.r[o + j] * A.k[o + j];
      }
    }
  }
  Buf dwkv_y = buf(nc);
  NormBackward(A.wkv_y.data(), L.ln_x_w, A.gn_mean.data(), A.gn_rstd.data(), dy.data(), rows, H, N,
               dwkv_y.data(), G ? G->ln_x_w : nullptr, G ? G->ln_x_b : nullptr);

  // S = S·diag(w) + (S·a)·bᵀ + v·kᵀ ; y = S·r   with a = −κ̂, b = κ̂ ⊙ α · c (c: the removal multiplier)
  Buf neg_kappa = buf(nc), bvec = buf(nc);
  const Real removal = static_cast<Real>(cfg.variant.removal_scale());
  for (int64_t i = 0; i < nc; ++i) {
    neg_kappa[i] = -A.kappa[i];
    bvec[i] = A.kappa[i] * A.a[i] * removal;
  }
  Buf wdr = buf(nc), dw = buf(nc), wdk = buf(nc), wdv = buf(nc), da_w = buf(nc), db_w = buf(nc);
  Wkv7TrainArgs<Real> wkv{B, T, H, N, A.r.data(), A.w.data(), A.k.data(), A.v.data(),
                          neg_kappa.data(), bvec.data(), init_state, th};
  Wkv7TrainBackward(wkv, A.sa.data(), A.checkpoints.data(), dwkv_y.data(), wdr.data(), dw.data(),
                    wdk.data(), wdv.data(), da_w.data(), db_w.data(), dstate);
  Buf dkappa = buf(nc), dalpha = buf(nc), dk_raw = buf(nc);
  for (int64_t i = 0; i < nc; ++i) {
    dr[i] += wdr[i];
    dk[i] += wdk[i];
    dv[i] += wdv[i];
    // a = −κ̂ ; b = κ̂ ⊙ α · c
    dkappa[i] = db_w[i] * A.a[i] * removal - da_w[i];
    dalpha[i] = db_w[i] * A.kappa[i] * removal;
    // k = k_raw ⊙ (1 + (α − 1) ⊙ k_a)
    const Real ka = L.k_a[i % C];
    dk_raw[i] = dk[i] * (Real(1) + (A.a[i] - Real(1)) * ka);
    dalpha[i] += dk[i] * A.k_raw[i] * ka;
    if (G) G->k_a[i % C] += dk[i] * A.k_raw[i] * (A.a[i] - Real(1));
  }
  // κ̂ = q / max(‖q‖, eps), q = k_raw ⊙ k_k:  dq = (dκ̂ − κ̂ (κ̂·dκ̂)) / ‖q‖ above eps, dκ̂ / eps below
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t h = 0; h < H; ++h) {
      const int64_t o = r * C + h * N;
      const Real norm = A.k_norm[r * H + h];
      Real proj = 0;
      if (norm > Real(kNormalizeEps)) {
        for (int64_t j = 0; j < N; ++j) proj += A.kappa[o + j] * dkappa[o + j];
      }
      for (int64_t j = 0; j < N; ++j) {
        const Real dq = (dkappa[o + j] - A.kappa[o + j] * proj) / norm;
        dk_raw[o + j] += dq * L.k_k[h * N + j];
        if (G) G->k_k[h * N + j] += dq * A.k_raw[o + j];
      }
    }
  }

  // The six lerps' outputs are recomputed into xin; dh collects ∂/∂h1 from all of them.
  Buf xin = buf(nc), dxin = buf(nc), dh = buf(nc);
  auto lerp_back = [&](const Real* mu, Real* dmu) {
    ShiftLerpBackward(A.h1.data(), mu, dxin.data(), B, T, C, dh.data(), dmu);
  };
  // A projection y = W·xin: dW += dyᵀ·xin ; dxin = dy·W
  auto project_back = [&](const Real* dyp, const Real* W, Real* dW) {
    if (dW) GemmTNAcc(dyp, xin.data(), rows, C, C, dW, th);
    GemmNN(dyp, W, rows, C, C, dxin.data(), false, th);
  };
  // A LoRA pair out = f(xin·M1)·M2 given dz = ∂/∂(f(·)·M2) and f's output `hid` and its
  // derivative from `act_grad`: dM2 += hidᵀ·dz ; dM1 += xinᵀ·(dhid⊙f') ; dxin += (dhid⊙f')·M1ᵀ.
  auto lora_back = [&](const Real* dz, const Real* M1, const Real* M2, int64_t rank,
                       const ActivationBuffer<Real>& hid, Real (*act_grad)(Real), Real* dM1, Real* dM2) {
    Buf dhid = buf(rows * rank);
    if (dM2) GemmTNAcc(hid.data(), dz, rows, rank, C, dM2, th);
    GemmNT(dz, M2, rows, C, rank, dhid.data(), false, th);
    for (int64_t i = 0; i < rows * rank; ++i) dhid[i] *= act_grad(hid[i]);
    if (dM1) GemmTNAcc(xin.data(), dhid.data(), rows, C, rank, dM1, th);
    GemmNT(dhid.data(), M1, rows, rank, C, dxin.data(), true, th);
  };
  Buf dz = buf(nc);

  // v = v_raw + (v_first − v_raw) ⊙ m, m = σ(v0 + (xv·v1)·v2)   (layer 0: v = v_raw = v_first)
  Buf dv_raw = buf(nc);
  ShiftLerpForward(A.h1.data(), L.x_v, B, T, C, xin.data());
  std::fill(dxin.begin(), dxin.end(), Real(0));
  if (first_layer) {
    for (int64_t i = 0; i < nc; ++i) dv_raw[i] = dv[i] + dv_first[i];
  } else {
    for (int64_t i = 0; i < nc; ++i) {
      const Real m = A.v_mix[i];
      dv_raw[i] = dv[i] * (Real(1) - m);
      dv_first[i] += dv[i] * m;
      dz[i] = dv[i] * (v_first[i] - A.v_raw[i]) * m * (Real(1) - m);
    }
    if (G) AddColumnSums(dz.data(), rows, C, G->v0);
    lora_back(dz.data(), L.v1, L.v2, rk.v, A.v_lora, [](Real) { return Real(1); }, G ? G->v1 : nullptr,
              G ? G->v2 : nullptr);
  }
  // v_raw = W_v·xv  (dxin already holds the LoRA's share, so add the projection's)
  if (G) GemmTNAcc(dv_raw.data(), xin.data(), rows, C, C, G->value, th);
  GemmNN(dv_raw.data(), L.value, rows, C, C, dxin.data(), true, th);
  lerp_back(L.x_v, G ? G->x_v : nullptr);

  // r = W_r·xr
  ShiftLerpForward(A.h1.data(), L.x_r, B, T, C, xin.data());
  project_back(dr.data(), L.receptance, G ? G->receptance : nullptr);
  lerp_back(L.x_r, G ? G->x_r : nullptr);
  // k_raw = W_k·xk
  ShiftLerpForward(A.h1.data(), L.x_k, B, T, C, xin.data());
  project_back(dk_raw.data(), L.key, G ? G->key : nullptr);
  lerp_back(L.x_k, G ? G->x_k : nullptr);

  // w = exp(−0.606531·σ(w0 + tanh(xw·w1)·w2)):  dz = dw · w · (−0.606531) · σ(1 − σ)
  for (int64_t i = 0; i < nc; ++i) {
    const Real sg = A.w_sig[i];
    dz[i] = dw[i] * A.w[i] * Real(kDecayScale) * sg * (Real(1) - sg);
  }
  if (G) AddColumnSums(dz.data(), rows, C, G->w0);
  ShiftLerpForward(A.h1.data(), L.x_w, B, T, C, xin.data());
  std::fill(dxin.begin(), dxin.end(), Real(0));
  lora_back(dz.data(), L.w1, L.w2, rk.w, A.w_lora, [](Real t) { return Real(1) - t * t; },
            G ? G->w1 : nullptr, G ? G->w2 : nullptr);
  lerp_back(L.x_w, G ? G->x_w : nullptr);

  // α = σ(a0 + (xa·a1)·a2)
  for (int64_t i = 0; i < nc; ++i) dz[i] = dalpha[i] * A.a[i] * (Real(1) - A.a[i]);
  if (G) AddColumnSums(dz.data(), rows, C, G->a0);
  ShiftLerpForward(A.h1.data(), L.x_a, B, T, C, xin.data());
  std::fill(dxin.begin(), dxin.end(), Real(0));
  lora_back(dz.data(), L.a1, L.a2, rk.a, A.a_lora, [](Real) { return Real(1); }, G ? G->a1 : nullptr,
            G ? G->a2 : nullptr);
  lerp_back(L.x_a, G ? G->x_a : nullptr);

  // g = σ(xg·g1)·g2
  ShiftLerpForward(A.h1.data(), L.x_g, B, T, C, xin.data());
  std::fill(dxin.begin(), dxin.end(), Real(0));
  lora_back(dg.data(), L.g1, L.g2, rk.g, A.g_lora, [](Real q) { return q * (Real(1) - q); },
            G ? G->g1 : nullptr, G ? G->g2 : nullptr);
  lerp_back(L.x_g, G ? G->x_g : nullptr);

  // h1 = LayerNorm(x_in; ln1); the residual already carries dx to x_in
  NormBackward(A.x_in.data(), L.ln1_w, A.ln1_mean.data(), A.ln1_rstd.data(), dh.data(), rows, 1, C, dx,
               G ? G->ln1_w : nullptr, G ? G->ln1_b : nullptr);
}

template void BlockBackward<float>(const LayerRefs<const float>&, const LayerRefs<float>*,
                                   const ModelConfig&, const BatchShape&, bool, const float*,
                                   const float*, const float*, const BlockActivations<float>&, float*,
                                   float*, float*);
template void BlockBackward<double>(const LayerRefs<const double>&, const LayerRefs<double>*,
                                    const ModelConfig&, const BatchShape&, bool, const double*,
                                    const double*, const double*, const BlockActivations<double>&,
                                    double*, double*, double*);

}  // namespace anser
