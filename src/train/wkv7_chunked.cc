#include "train/wkv7_chunked.h"

#include <algorithm>
#include <cstring>
#include <vector>

namespace anser {
namespace {

// The chunk is the checkpoint interval, so each chunk's end state is the checkpoint to store.
constexpr int64_t kChunk = kWkvCheckpointEvery;

// out[r][c] += Σ_i x[r][i]·m[i][c] for rows r0 … r1−1 and columns c0 … c1−1.
[[gnu::always_inline]] inline void AddProductPlain(const float* __restrict x, int64_t inner,
                                                   const float* __restrict m, int64_t cols,
                                                   float* __restrict out, int64_t r0, int64_t r1,
                                                   int64_t c0, int64_t c1) {
  for (int64_t r = r0; r < r1; ++r) {
    for (int64_t i = 0; i < inner; ++i) {
      const float c = x[r * inner + i];
      for (int64_t j = c0; j < c1; ++j) out[r * cols + j] += c * m[i * cols + j];
    }
  }
}

// kLanes floats as one value, the width of one register of the build (16 for AVX-512, 8 for
// AVX2, 4 for SSE). Loaded and stored with memcpy, at any alignment; never passed by value,
// whose ABI differs between builds.
// (GCC drops a vector_size that depends on a template parameter, hence one type per width.)
template <int kLanes>
struct FloatVec;
template <>
struct FloatVec<4> {
  typedef float type __attribute__((vector_size(16)));
};
template <>
struct FloatVec<8> {
  typedef float type __attribute__((vector_size(32)));
};
template <>
struct FloatVec<16> {
  typedef float type __attribute__((vector_size(64)));
};

// out[r][c] += Σ_i x[r][i]·m[i][c], for x (rows × inner) and m (inner × cols), row-major. Blocks
// of 4 rows × 16 columns keep their sums in registers over the whole inner loop (at head size 64
// every product here is made of them); the edges of other sizes run plainly.
template <int kLanes>
[[gnu::always_inline]] inline void AddProduct(const float* __restrict x, int64_t rows,
                                              int64_t inner, const float* __restrict m,
                                              int64_t cols, float* __restrict out) {
  using Vec = typename FloatVec<kLanes>::type;
  static_assert(sizeof(Vec) == kLanes * sizeof(float));
  constexpr int64_t kRows = 4, kCols = 16, kVecs = kCols / kLanes;
  const int64_t rows_blocked = rows - rows % kRows, cols_blocked = cols - cols % kCols;
  for (int64_t r0 = 0; r0 < rows_blocked; r0 += kRows) {
    for (int64_t c0 = 0; c0 < cols_blocked; c0 += kCols) {
      // One register-wide memcpy each: a wider one goes through the stack in pieces.
      Vec acc[kRows][kVecs];
      for (int64_t r = 0; r < kRows; ++r) {
        for (int64_t v = 0; v < kVecs; ++v) {
          std::memcpy(&acc[r][v], out + (r0 + r) * cols + c0 + v * kLanes, sizeof(Vec));
        }
      }
      for (int64_t i = 0; i < inner; ++i) {
        Vec mi[kVecs];
        for (int64_t v = 0; v < kVecs; ++v) {
          std::memcpy(&mi[v], m + i * cols + c0 + v * kLanes, sizeof(Vec));
        }
        for (int64_t r = 0; r < kRows; ++r) {
          const float xr = x[(r0 + r) * inner + i];
          for (int64_t v = 0; v < kVecs; ++v) acc[r][v] += xr * mi[v];
        }
      }
      for (int64_t r = 0; r < kRows; ++r) {
        for (int64_t v = 0; v < kVecs; ++v) {
          std::memcpy(out + (r0 + r) * cols + c0 + v * kLanes, &acc[r][v], sizeof(Vec));
        }
      }
    }
    AddProductPlain(x, inner, m, cols, out, r0, r0 + kRows, cols_blocked, cols);
  }
  AddProductPlain(x, inner, m, cols, out, rows_blocked, rows, 0, cols);
}

// out (cols × rows) = xᵀ for x (rows × cols).
[[gnu::always_inline]] inline void Transpose(const float* __restrict x, int64_t rows, int64_t cols,
                                             float* __restrict out) {
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t c = 0; c < cols; ++c) out[c * rows + r] = x[r * cols + c];
  }
}

// S·diag(d) in place, for S (N × N) row-major.
[[gnu::always_inline]] inline void ScaleColumns(int64_t N, const float* __restrict d,
                                                float* __restrict s) {
  for (int64_t i = 0; i < N; ++i) {
    for (int64_t j = 0; j < N; ++j) s[i * N + j] *= d[j];
  }
}

// diag(d)·S in place, for S (N × N) row-major.
[[gnu::always_inline]] inline void ScaleRows(int64_t N, const float* __restrict d,
                                             float* __restrict s) {
  for (int64_t i = 0; i < N; ++i) {
    for (int64_t j = 0; j < N; ++j) s[i * N + j] *= d[i];
  }
}

// Keeps what y_t and u_t may see in a (2L × 2L) score matrix over [r̃; ã] × [k̃; b̃] (or a
// gradient of one): r̃_t tokens s ≤ t, ã_t tokens s < t.
[[gnu::always_inline]] inline void MaskCausal(int64_t L, float* score) {
  const int64_t L2 = 2 * L;
  for (int64_t t = 0; t < L; ++t) {
    for (int64_t s = 0; s < L; ++s) {
      if (s > t) score[t * L2 + s] = score[t * L2 + L + s] = 0.0f;
      if (s >= t) score[(L + t) * L2 + s] = score[(L + t) * L2 + L + s] = 0.0f;
    }
  }
}

// One chunk of one (sequence, head): the centred decays, the scaled rows and their scores, which
// the forward and the backward both start from. Buffers sized once for the longest chunk.
struct Chunk {
  int64_t N, L = 0;
  std::vector<float> e, f;   // e[(t+1)·N + j] = e_t[j], t = −1 … L−1; f likewise
  std::vector<float> ra;     // rows r̃_0 … r̃_{L−1}, then ã_0 … ã_{L−1}  (2L × N)
  std::vector<float> kb;     // rows k̃_0 … k̃_{L−1}, then b̃_0 … b̃_{L−1}  (2L × N)
  std::vector<float> kb_t;   // kb transposed (N × 2L)
  std::vector<float> vu;     // rows v_0 … v_{L−1}, then u_0 … u_{L−1}  (2L × N)
  std::vector<float> score;  // ra·kbᵀ, causally masked (2L × 2L)

  explicit Chunk(int64_t head_size)
      : N(head_size),
        e(Size((kChunk + 1) * N)),
        f(e.size()),
        ra(Size(2 * kChunk * N)),
        kb(ra.size()),
        kb_t(ra.size()),
        vu(ra.size()),
        score(Size(4 * kChunk * kChunk)) {}

  static size_t Size(int64_t n) { return static_cast<size_t>(n); }
  float* E(int64_t t) { return e.data() + (t + 1) * N; }
  float* F(int64_t t) { return f.data() + (t + 1) * N; }

  // Tokens t0 … t0+L−1 of sequence b, head h; the u rows of vu are left to the caller.
  template <int kLanes>
  [[gnu::always_inline]] void Load(const Wkv7TrainArgs<float>& p, int64_t b, int64_t h,
                                   int64_t t0) {
    const int64_t T = p.n_tokens, C = p.n_head * N;
    L = std::min(kChunk, T - t0);
    const int64_t L2 = 2 * L;
    const auto at = [&](const float* x, int64_t t) { return x + (b * T + t0 + t) * C + h * N; };
    // e_m = f_m = 1 on the middle token, then outwards multiplying or dividing by one w.
    const int64_t m = (L - 1) / 2;
    std::fill_n(E(m), N, 1.0f);
    std::fill_n(F(m), N, 1.0f);
    for (int64_t t = m + 1; t < L; ++t) {
      const float* w = at(p.w, t);
      float *et = E(t), *ft = F(t);
      const float *ep = E(t - 1), *fp = F(t - 1);
      for (int64_t j = 0; j < N; ++j) et[j] = ep[j] * w[j], ft[j] = fp[j] / w[j];
    }
    for (int64_t t = m; t >= 0; --t) {
      const float* w = at(p.w, t);
      float *ep = E(t - 1), *fp = F(t - 1);
      const float *et = E(t), *ft = F(t);
      for (int64_t j = 0; j < N; ++j) ep[j] = et[j] / w[j], fp[j] = ft[j] * w[j];
    }
    for (int64_t t = 0; t < L; ++t) {
      const float *r = at(p.r, t), *k = at(p.k, t), *a = at(p.a, t), *bb = at(p.b, t);
      const float *et = E(t), *ep = E(t - 1), *ft = F(t);
      float *rt = ra.data() + t * N, *at_ = ra.data() + (L + t) * N, *kt = kb.data() + t * N,
            *bt = kb.data() + (L + t) * N;
      for (int64_t j = 0; j < N; ++j) {
        rt[j] = r[j] * et[j], at_[j] = a[j] * ep[j];
        kt[j] = k[j] * ft[j], bt[j] = bb[j] * ft[j];
      }
      std::copy_n(at(p.v, t), N, vu.begin() + t * N);
    }
    Transpose(kb.data(), L2, N, kb_t.data());
    std::fill_n(score.begin(), L2 * L2, 0.0f);
    AddProduct<kLanes>(ra.data(), L2, N, kb_t.data(), L2, score.data());
    MaskCausal(L, score.data());
  }
};

// The chunked forward; always inlined into the entry points below, which choose the instruction
// set.
template <int kLanes>
[[gnu::always_inline]] inline void Forward(const Wkv7TrainArgs<float>& p, int64_t begin,
                                           int64_t end, float* y, float* sa, float* checkpoints) {
  const int64_t T = p.n_tokens, H = p.n_head, N = p.head_size, C = H * N;
  const int64_t n_ckpt = (T + kChunk - 1) / kChunk;
  Chunk ch(N);
  std::vector<float> st(ch.Size(N * N));  // Sᵀ (key-major), so S·x runs along its rows
  std::vector<float> yu(ch.ra.size());    // rows y_t, then u_t
  for (int64_t bh = begin; bh < end; ++bh) {
    const int64_t b = bh / H, h = bh % H;
    if (p.init_state != nullptr) {
      Transpose(p.init_state + h * N * N, N, N, st.data());
    } else {
      std::fill(st.begin(), st.end(), 0.0f);
    }
    for (int64_t t0 = 0; t0 < T; t0 += kChunk) {
      ch.Load<kLanes>(p, b, h, t0);
      const int64_t L = ch.L, L2 = 2 * L;
      // S₀' = S₀·diag(P_m), P_m = f_{−1}; transposed, the scale runs along rows.
      ScaleRows(N, ch.F(-1), st.data());
      std::fill_n(yu.begin(), L2 * N, 0.0f);
      AddProduct<kLanes>(ch.ra.data(), L2, N, st.data(), N, yu.data());
      // u_t by forward substitution (it depends on u_s, s < t).
      for (int64_t t = 0; t < L; ++t) {
        float* u = ch.vu.data() + (L + t) * N;
        std::copy_n(yu.begin() + (L + t) * N, N, u);
        const float* row = ch.score.data() + (L + t) * L2;
        for (int64_t s = 0; s < t; ++s) {
          const float cv = row[s], cu = row[L + s];
          const float *vs = ch.vu.data() + s * N, *us = ch.vu.data() + (L + s) * N;
          for (int64_t i = 0; i < N; ++i) u[i] += cv * vs[i] + cu * us[i];
        }
        std::copy_n(u, N, sa + (b * T + t0 + t) * C + h * N);
      }
      AddProduct<kLanes>(ch.score.data(), L, L2, ch.vu.data(), N, yu.data());
      for (int64_t t = 0; t < L; ++t) {
        std::copy_n(yu.begin() + t * N, N, y + (b * T + t0 + t) * C + h * N);
      }
      // S_L = (S₀' + Σ_s v_s k̃_sᵀ + u_s b̃_sᵀ)·diag(e_{L−1}), transposed.
      AddProduct<kLanes>(ch.kb_t.data(), N, L2, ch.vu.data(), N, st.data());
      ScaleRows(N, ch.E(L - 1), st.data());
      Transpose(st.data(), N, N, checkpoints + (bh * n_ckpt + t0 / kChunk) * N * N);
    }
  }
}

// The backward of the chunked form over (sequence, head) pairs [begin, end), the chunks from the
// last: u_t is the stored sa_t, S₀ and S_L are stored checkpoints (or the initial state), and
// dS_L the gradient the later chunks carried back. With X' = S₀' + Σ_s v_s k̃_sᵀ + u_s b̃_sᵀ,
// dX' = dS_L·diag(e_{L−1}), rows [dy; du] against [v; u] and [r̃; ã] against [k̃; b̃]:
//   du_s = Σ_t score[t, u_s]·dy_t + Σ_{t>s} score[ã_t, b̃_s]·du_t + dX'·b̃_s  (reverse substitution)
//   dv_s = Σ_t score[·, k̃_s]·[dy; du]_t + dX'·k̃_s
//   d[r̃; ã] = [dy; du]·S₀' + dscore·[k̃; b̃],  dscore = [dy; du]·[v; u]ᵀ masked like score
//   d[k̃; b̃] = [v; u]·dX' + dscoreᵀ·[r̃; ã],   dS₀ = ([dy; du]ᵀ·[r̃; ã] + dX')·diag(P_m)
// and log P_t collects d r̃_t⊙r̃_t + d ã_{t+1}⊙ã_{t+1} − d k̃_t⊙k̃_t − d b̃_t⊙b̃_t (plus, for the
// last token, the column sums of dS_L⊙S_L); d log w_t is that summed over tokens t … L−1. (The
// centring shifts cancel: the products do not depend on the centre.)
template <int kLanes>
[[gnu::always_inline]] inline void Backward(const Wkv7TrainArgs<float>& p, const float* sa,
                                            const float* checkpoints, const float* dy, float* dr,
                                            float* dw, float* dk, float* dv, float* da, float* db,
                                            float* ds0, int64_t begin, int64_t end) {
  const int64_t T = p.n_tokens, H = p.n_head, N = p.head_size, C = H * N;
  const int64_t n_ckpt = (T + kChunk - 1) / kChunk;
  Chunk ch(N);
  const size_t nn = ch.Size(N * N), rows = ch.ra.size();
  std::vector<float> s0(nn), ds(nn), dx(nn), dx_t(nn);
  std::vector<float> dyu(rows), dyu_t(rows), vu_t(rows), dvu(rows), dra(rows), dkb(rows);
  std::vector<float> dscore(ch.score.size()), dscore_t(ch.score.size());
  std::vector<float> dlog(ch.Size(N));
  for (int64_t bh = begin; bh < end; ++bh) {
    const int64_t b = bh / H, h = bh % H;
    std::fill(ds.begin(), ds.end(), 0.0f);
    for (int64_t c = n_ckpt - 1; c >= 0; --c) {
      const int64_t t0 = c * kChunk;
      ch.Load<kLanes>(p, b, h, t0);
      const int64_t L = ch.L, L2 = 2 * L;
      const auto at = [&](int64_t t) { return (b * T + t0 + t) * C + h * N; };
      for (int64_t t = 0; t < L; ++t) {
        std::copy_n(sa + at(t), N, ch.vu.begin() + (L + t) * N);
        std::copy_n(dy + at(t), N, dyu.begin() + t * N);
      }
      // The last token's share of d log P from the end state, before dS_L is rescaled.
      const float* s_end = checkpoints + (bh * n_ckpt + c) * N * N;
      std::fill(dlog.begin(), dlog.end(), 0.0f);
      for (int64_t i = 0; i < N; ++i) {
        for (int64_t j = 0; j < N; ++j)
          dlog[ch.Size(j)] += ds[ch.Size(i * N + j)] * s_end[i * N + j];
      }
      std::copy(ds.begin(), ds.end(), dx.begin());
      ScaleColumns(N, ch.E(L - 1), dx.data());
      Transpose(dx.data(), N, N, dx_t.data());
      // dv, du: dX'·[k̃; b̃] and the y rows' scores, then the u rows' ones by reverse substitution.
      std::fill_n(dvu.begin(), L2 * N, 0.0f);
      AddProduct<kLanes>(ch.kb.data(), L2, N, dx_t.data(), N, dvu.data());
      for (int64_t t = 0; t < L; ++t) {
        const float* row = ch.score.data() + t * L2;
        const float* dyt = dyu.data() + t * N;
        for (int64_t q = 0; q < L2; ++q) {
          float* d = dvu.data() + q * N;
          for (int64_t i = 0; i < N; ++i) d[i] += row[q] * dyt[i];
        }
      }
      for (int64_t t = L - 1; t >= 0; --t) {
        const float* du = dvu.data() + (L + t) * N;  // complete: every later u has added to it
        std::copy_n(du, N, dyu.begin() + (L + t) * N);
        const float* row = ch.score.data() + (L + t) * L2;
        for (int64_t s = 0; s < t; ++s) {
          const float cv = row[s], cu = row[L + s];
          float *dvs = dvu.data() + s * N, *dus = dvu.data() + (L + s) * N;
          for (int64_t i = 0; i < N; ++i) dvs[i] += cv * du[i], dus[i] += cu * du[i];
        }
      }
      // The scores' gradient, then those of the scaled rows.
      Transpose(ch.vu.data(), L2, N, vu_t.data());
      std::fill_n(dscore.begin(), L2 * L2, 0.0f);
      AddProduct<kLanes>(dyu.data(), L2, N, vu_t.data(), L2, dscore.data());
      MaskCausal(L, dscore.data());
      Transpose(dscore.data(), L2, L2, dscore_t.data());
      const float* init = p.init_state != nullptr ? p.init_state + h * N * N : nullptr;
      if (c > 0) {
        std::copy_n(checkpoints + (bh * n_ckpt + c - 1) * N * N, N * N, s0.begin());
      } else if (init != nullptr) {
        std::copy_n(init, N * N, s0.begin());
      } else {
        std::fill(s0.begin(), s0.end(), 0.0f);
      }
      ScaleColumns(N, ch.F(-1), s0.data());
      std::fill_n(dra.begin(), L2 * N, 0.0f);
      AddProduct<kLanes>(dyu.data(), L2, N, s0.data(), N, dra.data());
      AddProduct<kLanes>(dscore.data(), L2, L2, ch.kb.data(), N, dra.data());
      std::fill_n(dkb.begin(), L2 * N, 0.0f);
      AddProduct<kLanes>(ch.vu.data(), L2, N, dx.data(), N, dkb.data());
      AddProduct<kLanes>(dscore_t.data(), L2, L2, ch.ra.data(), N, dkb.data());
      // dS₀ = ([dy; du]ᵀ·[r̃; ã] + dX')·diag(P_m): what this chunk carries to the one before.
      Transpose(dyu.data(), L2, N, dyu_t.data());
      std::copy(dx.begin(), dx.end(), ds.begin());
      AddProduct<kLanes>(dyu_t.data(), N, L2, ch.ra.data(), N, ds.data());
      ScaleColumns(N, ch.F(-1), ds.data());
      for (int64_t t = L - 1; t >= 0; --t) {
        const float *rt = ch.ra.data() + t * N, *drt = dra.data() + t * N,
                    *kt = ch.kb.data() + t * N, *dkt = dkb.data() + t * N,
                    *bt = ch.kb.data() + (L + t) * N, *dbt = dkb.data() + (L + t) * N;
        const float *an = ch.ra.data() + (L + t + 1) * N, *dan = dra.data() + (L + t + 1) * N;
        const bool next = t + 1 < L;
        const float *w = p.w + at(t), *et = ch.E(t), *ep = ch.E(t - 1), *ft = ch.F(t);
        const float* dat = dra.data() + (L + t) * N;
        float *o_dr = dr + at(t), *o_dw = dw + at(t), *o_dk = dk + at(t), *o_db = db + at(t),
              *o_da = da + at(t);
        for (int64_t j = 0; j < N; ++j) {
          dlog[ch.Size(j)] +=
              drt[j] * rt[j] - dkt[j] * kt[j] - dbt[j] * bt[j] + (next ? dan[j] * an[j] : 0.0f);
          o_dw[j] = dlog[ch.Size(j)] / w[j];
          o_dr[j] = drt[j] * et[j];
          o_da[j] = dat[j] * ep[j];
          o_dk[j] = dkt[j] * ft[j];
          o_db[j] = dbt[j] * ft[j];
        }
        std::copy_n(dvu.begin() + t * N, N, dv + at(t));
      }
    }
    if (ds0 != nullptr) std::copy(ds.begin(), ds.end(), ds0 + bh * N * N);
  }
}

// GCC is also told the vector width its plain loops may use; clang (the fuzz build) takes no
// such entry in a target attribute.
#if defined(__clang__)
#define ANSER_WKV_AVX512_TARGET "avx512f,avx512vl,avx2,fma"
#else
#define ANSER_WKV_AVX512_TARGET "avx512f,avx512vl,avx2,fma,prefer-vector-width=512"
#endif

__attribute__((target("avx2,fma"))) void ForwardAvx2(const Wkv7TrainArgs<float>& p, int64_t begin,
                                                     int64_t end, float* y, float* sa,
                                                     float* checkpoints) {
  Forward<8>(p, begin, end, y, sa, checkpoints);
}

__attribute__((target(ANSER_WKV_AVX512_TARGET))) void ForwardAvx512(
    const Wkv7TrainArgs<float>& p, int64_t begin, int64_t end, float* y, float* sa,
    float* checkpoints) {
  Forward<16>(p, begin, end, y, sa, checkpoints);
}

__attribute__((target("avx2,fma"))) void BackwardAvx2(const Wkv7TrainArgs<float>& p,
                                                      const float* sa, const float* checkpoints,
                                                      const float* dy, float* dr, float* dw,
                                                      float* dk, float* dv, float* da, float* db,
                                                      float* ds0, int64_t begin, int64_t end) {
  Backward<8>(p, sa, checkpoints, dy, dr, dw, dk, dv, da, db, ds0, begin, end);
}

__attribute__((target(ANSER_WKV_AVX512_TARGET))) void BackwardAvx512(
    const Wkv7TrainArgs<float>& p, const float* sa, const float* checkpoints, const float* dy,
    float* dr, float* dw, float* dk, float* dv, float* da, float* db, float* ds0, int64_t begin,
    int64_t end) {
  Backward<16>(p, sa, checkpoints, dy, dr, dw, dk, dv, da, db, ds0, begin, end);
}

}  // namespace

void Wkv7ChunkedForward(const Wkv7TrainArgs<float>& p, WkvIsa isa, int64_t begin, int64_t end,
                        float* y, float* sa, float* checkpoints) {
  switch (isa) {
    case WkvIsa::kAvx512:
      return ForwardAvx512(p, begin, end, y, sa, checkpoints);
    case WkvIsa::kAvx2:
      return ForwardAvx2(p, begin, end, y, sa, checkpoints);
    case WkvIsa::kBaseline:
      return Forward<4>(p, begin, end, y, sa, checkpoints);
  }
}

void Wkv7ChunkedBackward(const Wkv7TrainArgs<float>& p, WkvIsa isa, const float* sa,
                         const float* checkpoints, const float* dy, float* dr, float* dw, float* dk,
                         float* dv, float* da, float* db, float* ds0, int64_t begin, int64_t end) {
  switch (isa) {
    case WkvIsa::kAvx512:
      return BackwardAvx512(p, sa, checkpoints, dy, dr, dw, dk, dv, da, db, ds0, begin, end);
    case WkvIsa::kAvx2:
      return BackwardAvx2(p, sa, checkpoints, dy, dr, dw, dk, dv, da, db, ds0, begin, end);
    case WkvIsa::kBaseline:
      return Backward<4>(p, sa, checkpoints, dy, dr, dw, dk, dv, da, db, ds0, begin, end);
  }
}

}  // namespace anser
