#include "train/wkv7_train.h"

#include <algorithm>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "kernels/kernels.h"
#include "train/parallel.h"
#include "train/wkv7_chunked.h"

namespace anser {
namespace {

// The instruction set the float recurrence is compiled for, following the selected kernel table
// (so ANSER_KERNELS and the tests' table choice apply here too): the reference table runs the
// baseline build, avx2 and avxvnni the AVX2/FMA build, avx512 the AVX-512 one (of the chunked
// form; its sequential form runs the AVX2 build, which measured as fast).
WkvIsa SelectedIsa() {
  const std::string_view table = SelectKernels().name;
  if (table == "avx512") return WkvIsa::kAvx512;
  return table == "ref" ? WkvIsa::kBaseline : WkvIsa::kAvx2;
}

int64_t CheckpointsPerSequence(int64_t n_tokens) {
  return (n_tokens + kWkvCheckpointEvery - 1) / kWkvCheckpointEvery;
}

// Σ_j x[j]·y[j] in eight interleaved partial sums: the compiler keeps them in one vector
// register (a single running sum is a serial dependency it may not reorder).
template <typename Real>
[[gnu::always_inline]] inline Real Dot(const Real* x, const Real* y, int64_t n) {
  Real part[8] = {};
  int64_t j = 0;
  for (; j + 8 <= n; j += 8) {
    for (int l = 0; l < 8; ++l) part[l] += x[j + l] * y[j + l];
  }
  Real sum =
      ((part[0] + part[1]) + (part[2] + part[3])) + ((part[4] + part[5]) + (part[6] + part[7]));
  for (; j < n; ++j) sum += x[j] * y[j];
  return sum;
}

// The forward over (sequence, head) pairs [begin, end). Always inlined into its callers, so the
// AVX2 caller below compiles it for AVX2 (the library's baseline is SSE2).
template <typename Real>
[[gnu::always_inline]] inline void SequentialForwardRange(const Wkv7TrainArgs<Real>& p,
                                                          int64_t begin, int64_t end, Real* y,
                                                          Real* sa, Real* checkpoints) {
  const int64_t T = p.n_tokens, H = p.n_head, N = p.head_size, C = H * N;
  const int64_t n_ckpt = CheckpointsPerSequence(T);
  std::vector<Real> s(static_cast<size_t>(N * N));
  for (int64_t bh = begin; bh < end; ++bh) {
    const int64_t b = bh / H, h = bh % H;
    if (p.init_state != nullptr) {
      std::copy_n(p.init_state + h * N * N, N * N, s.data());
    } else {
      std::fill(s.begin(), s.end(), Real(0));
    }
    Real* ckpt = checkpoints + bh * n_ckpt * N * N;
    for (int64_t t = 0; t < T; ++t) {
      const int64_t o = (b * T + t) * C + h * N;
      const Real *r = p.r + o, *w = p.w + o, *k = p.k + o, *v = p.v + o, *a = p.a + o,
                 *bb = p.b + o;
      for (int64_t i = 0; i < N; ++i) {
        Real* row = s.data() + i * N;
        // sa_t[i] = Σ_j S_{t−1}[i,j]·a_t[j]
        const Real dot = Dot(row, a, N);
        sa[o + i] = dot;
        // S_t[i,j] = S_{t−1}[i,j]·w_t[j] + sa_t[i]·b_t[j] + v_t[i]·k_t[j]
        for (int64_t j = 0; j < N; ++j) row[j] = row[j] * w[j] + dot * bb[j] + v[i] * k[j];
        // y_t[i] = Σ_j S_t[i,j]·r_t[j]
        y[o + i] = Dot(row, r, N);
      }
      if ((t + 1) % kWkvCheckpointEvery == 0 || t == T - 1) {
        std::copy_n(s.data(), N * N, ckpt + (t / kWkvCheckpointEvery) * N * N);
      }
    }
  }
}

template <typename Real>
void ForwardRangeBaseline(const Wkv7TrainArgs<Real>& p, int64_t begin, int64_t end, Real* y,
                          Real* sa, Real* checkpoints) {
  SequentialForwardRange(p, begin, end, y, sa, checkpoints);
}

__attribute__((target("avx2,fma"))) void ForwardRangeAvx2(const Wkv7TrainArgs<float>& p,
                                                          int64_t begin, int64_t end, float* y,
                                                          float* sa, float* checkpoints) {
  SequentialForwardRange(p, begin, end, y, sa, checkpoints);
}

// The backward over (sequence, head) pairs [begin, end); ds0 (B·H·N·N, or null) receives each
// pair's initial-state gradient. Inlined like SequentialForwardRange.
template <typename Real>
[[gnu::always_inline]] inline void SequentialBackwardRange(const Wkv7TrainArgs<Real>& p,
                                                           const Real* sa, const Real* checkpoints,
                                                           const Real* dy, Real* dr, Real* dw,
                                                           Real* dk, Real* dv, Real* da, Real* db,
                                                           Real* ds0, int64_t begin, int64_t end) {
  const int64_t T = p.n_tokens, H = p.n_head, N = p.head_size, C = H * N;
  const int64_t n_ckpt = CheckpointsPerSequence(T);
  std::vector<Real> s(static_cast<size_t>(N * N)), prev(s.size()), ds(s.size()),
      dsa(static_cast<size_t>(N));
  // Per-token gradients gathered in local rows (no aliasing with the outputs, so the j loops
  // vectorise), then copied out.
  std::vector<Real> gw(dsa.size()), gk(dsa.size()), gb(dsa.size()), ga(dsa.size()), gr(dsa.size());
  for (int64_t bh = begin; bh < end; ++bh) {
    const int64_t b = bh / H, h = bh % H;
    const Real* ckpt = checkpoints + bh * n_ckpt * N * N;
    std::copy_n(ckpt + (n_ckpt - 1) * N * N, N * N, s.data());  // S_{T−1}
    std::fill(ds.begin(), ds.end(), Real(0));
    for (int64_t t = T - 1; t >= 0; --t) {
      const int64_t o = (b * T + t) * C + h * N;
      const Real *r = p.r + o, *w = p.w + o, *k = p.k + o, *v = p.v + o, *a = p.a + o,
                 *bb = p.b + o;
      const Real *sat = sa + o, *dyt = dy + o;
      // y_t = S_t·r_t  ⇒  dr_t = S_tᵀ·dy_t
      std::fill(gr.begin(), gr.end(), Real(0));
      for (int64_t i = 0; i < N; ++i) {
        const Real d = dyt[i];
        const Real* si = s.data() + i * N;
        for (int64_t j = 0; j < N; ++j) gr[static_cast<size_t>(j)] += si[j] * d;
      }
      std::copy(gr.begin(), gr.end(), dr + o);
      // S_{t−1}: exact at a chunk start (a stored state, or the initial one), otherwise
      // stepped back (S_t − v_t k_tᵀ − sa_t b_tᵀ)·diag(1/w_t), stable since w ≥ 0.545.
      if (t % kWkvCheckpointEvery == 0) {
        if (t > 0) {
          std::copy_n(ckpt + (t / kWkvCheckpointEvery - 1) * N * N, N * N, prev.data());
        } else if (p.init_state != nullptr) {
          std::copy_n(p.init_state + h * N * N, N * N, prev.data());
        } else {
          std::fill(prev.begin(), prev.end(), Real(0));
        }
      } else {
        // One division per key index, not per element (a division costs several products).
        for (int64_t j = 0; j < N; ++j) gr[static_cast<size_t>(j)] = Real(1) / w[j];
        for (int64_t i = 0; i < N; ++i) {
          for (int64_t j = 0; j < N; ++j) {
            const size_t ij = static_cast<size_t>(i * N + j);
            prev[ij] = (s[ij] - v[i] * k[j] - sat[i] * bb[j]) * gr[static_cast<size_t>(j)];
          }
        }
      }
      // dS += dy_t·r_tᵀ, then the gradients of the update's inputs:
      // dw[j] = Σ_i dS[i,j]·S_{t−1}[i,j] ; dk = dSᵀ·v ; db = dSᵀ·sa ; dv = dS·k ; dsa = dS·b
      for (std::vector<Real>* g : {&gw, &gk, &gb, &ga}) std::fill(g->begin(), g->end(), Real(0));
      for (int64_t i = 0; i < N; ++i) {
        Real* dsi = ds.data() + i * N;
        const Real* pi = prev.data() + i * N;
        const Real dyi = dyt[i], vi = v[i], sai = sat[i];
        for (int64_t j = 0; j < N; ++j) {
          dsi[j] += dyi * r[j];
          const Real g = dsi[j];
          gw[static_cast<size_t>(j)] += g * pi[j];
          gk[static_cast<size_t>(j)] += g * vi;
          gb[static_cast<size_t>(j)] += g * sai;
        }
        const Real dvi = Dot(dsi, k, N), dsai = Dot(dsi, bb, N);
        dv[o + i] = dvi;
        dsa[static_cast<size_t>(i)] = dsai;
      }
      // sa_t = S_{t−1}·a_t ⇒ da_t = S_{t−1}ᵀ·dsa ; carry dS ← dS·diag(w_t) + dsa·a_tᵀ
      for (int64_t i = 0; i < N; ++i) {
        Real* dsi = ds.data() + i * N;
        const Real* pi = prev.data() + i * N;
        const Real dsai = dsa[static_cast<size_t>(i)];
        for (int64_t j = 0; j < N; ++j) {
          ga[static_cast<size_t>(j)] += pi[j] * dsai;
          dsi[j] = dsi[j] * w[j] + dsai * a[j];
        }
      }
      std::copy(gw.begin(), gw.end(), dw + o);
      std::copy(gk.begin(), gk.end(), dk + o);
      std::copy(gb.begin(), gb.end(), db + o);
      std::copy(ga.begin(), ga.end(), da + o);
      std::swap(s, prev);
    }
    if (ds0 != nullptr) std::copy(ds.begin(), ds.end(), ds0 + bh * N * N);
  }
}

template <typename Real>
void BackwardRangeBaseline(const Wkv7TrainArgs<Real>& p, const Real* sa, const Real* checkpoints,
                           const Real* dy, Real* dr, Real* dw, Real* dk, Real* dv, Real* da,
                           Real* db, Real* ds0, int64_t begin, int64_t end) {
  SequentialBackwardRange(p, sa, checkpoints, dy, dr, dw, dk, dv, da, db, ds0, begin, end);
}

__attribute__((target("avx2,fma"))) void BackwardRangeAvx2(
    const Wkv7TrainArgs<float>& p, const float* sa, const float* checkpoints, const float* dy,
    float* dr, float* dw, float* dk, float* dv, float* da, float* db, float* ds0, int64_t begin,
    int64_t end) {
  SequentialBackwardRange(p, sa, checkpoints, dy, dr, dw, dk, dv, da, db, ds0, begin, end);
}

}  // namespace

int64_t Wkv7CheckpointSize(int64_t batch, int64_t n_tokens, int64_t n_head, int64_t head_size) {
  return batch * n_head * CheckpointsPerSequence(n_tokens) * head_size * head_size;
}

template <typename Real>
void Wkv7TrainForward(const Wkv7TrainArgs<Real>& p, Real* y, Real* sa, Real* checkpoints) {
  const int64_t N = p.head_size;
  const WkvIsa isa = std::is_same_v<Real, float> ? SelectedIsa() : WkvIsa::kBaseline;
  const bool chunked = std::is_same_v<Real, float> && p.form != Wkv7Form::kSequential;
  ParallelFor(p.batch * p.n_head, p.threads, p.n_tokens * N * N * 4,
              [&](int64_t begin, int64_t end) {
                if constexpr (std::is_same_v<Real, float>) {
                  if (chunked) return Wkv7ChunkedForward(p, isa, begin, end, y, sa, checkpoints);
                  if (isa != WkvIsa::kBaseline) {
                    return ForwardRangeAvx2(p, begin, end, y, sa, checkpoints);
                  }
                }
                ForwardRangeBaseline(p, begin, end, y, sa, checkpoints);
              });
}

template <typename Real>
void Wkv7TrainBackward(const Wkv7TrainArgs<Real>& p, const Real* sa, const Real* checkpoints,
                       const Real* dy, Real* dr, Real* dw, Real* dk, Real* dv, Real* da, Real* db,
                       Real* dstate) {
  const int64_t B = p.batch, T = p.n_tokens, H = p.n_head, N = p.head_size;
  // Each (sequence, head) writes its own initial-state gradient; summed over the batch after.
  std::vector<Real> ds0(dstate != nullptr ? static_cast<size_t>(B * H * N * N) : 0);
  const WkvIsa isa = std::is_same_v<Real, float> ? SelectedIsa() : WkvIsa::kBaseline;
  const bool chunked = std::is_same_v<Real, float> && p.form != Wkv7Form::kSequential;
  ParallelFor(B * H, p.threads, T * N * N * 8, [&](int64_t begin, int64_t end) {
    Real* ds0p = dstate != nullptr ? ds0.data() : nullptr;
    if constexpr (std::is_same_v<Real, float>) {
      if (chunked) {
        return Wkv7ChunkedBackward(p, isa, sa, checkpoints, dy, dr, dw, dk, dv, da, db, ds0p, begin,
                                   end);
      }
      if (isa != WkvIsa::kBaseline) {
        return BackwardRangeAvx2(p, sa, checkpoints, dy, dr, dw, dk, dv, da, db, ds0p, begin, end);
      }
    }
    BackwardRangeBaseline(p, sa, checkpoints, dy, dr, dw, dk, dv, da, db, ds0p, begin, end);
  });
  if (dstate != nullptr) {
    for (int64_t bh = 0; bh < B * H; ++bh) {
      Real* dst = dstate + (bh % H) * N * N;
      for (int64_t i = 0; i < N * N; ++i) dst[i] += ds0[static_cast<size_t>(bh * N * N + i)];
    }
  }
}

template void Wkv7TrainForward<float>(const Wkv7TrainArgs<float>&, float*, float*, float*);
template void Wkv7TrainForward<double>(const Wkv7TrainArgs<double>&, double*, double*, double*);
template void Wkv7TrainBackward<float>(const Wkv7TrainArgs<float>&, const float*, const float*,
                                       const float*, float*, float*, float*, float*, float*, float*,
                                       float*);
template void Wkv7TrainBackward<double>(const Wkv7TrainArgs<double>&, const double*, const double*,
                                        const double*, double*, double*, double*, double*, double*,
                                        double*, double*);

}  // namespace anser
