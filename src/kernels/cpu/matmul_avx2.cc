// Matrix products Y = X·Wᵀ over n tokens (prefill, batched decode): compute-bound, so organised
// as in BLIS. For each slice of kKc columns of X and W, X is packed once into panels of kMr
// tokens; each thread then converts blocks of kNr weight rows to f32 (from f16, bf16 or f32) into
// a panel that stays in L1, and sweeps all token panels over it with a kMr × kNr register tile
// of accumulators (12 of the 16 YMM registers; per step 12 FMAs against 8 loads, so the FMA
// units, not the loads, set the pace).
#include <algorithm>
#include <cstring>
#include <vector>

#include "core/thread_pool.h"
#include "kernels/cpu/avx2.h"
#include "kernels/cpu/simd_avx2.h"

namespace anser {
namespace {

constexpr int kMr = 6;        // tokens per register tile
constexpr int kNr = 16;       // weight rows per register tile (two YMM vectors)
constexpr int64_t kKc = 256;  // columns per slice: a 16 KiB weight panel (L1)

// Elements [k0, k0 + kc) of a float-type row as floats in out[0, kc); up to the next multiple
// of 8 the values written are zero.
template <DType D>
void ConvertSegment(const uint8_t* row, int64_t k0, int64_t kc, float* out) {
  constexpr size_t kSize = D == DType::kF32 ? 4 : 2;
  const uint8_t* p = row + static_cast<size_t>(k0) * kSize;
  int64_t k = 0;
  for (; k + 8 <= kc; k += 8) _mm256_storeu_ps(out + k, Load8<D>(p + k * kSize));
  if (k < kc) _mm256_storeu_ps(out + k, LoadPartial<D>(p + k * kSize, kc - k));
}

// panel[k·kNr + j] = W[row0 + j][k0 + k] for j < valid (0 beyond), k < kc rounded up to 8.
template <DType D>
void PackWeights(const MatRef& w, int64_t row0, int valid, int64_t k0, int64_t kc, float* panel) {
  alignas(32) float rows[kNr][kKc];
  const size_t row_bytes = DTypeRowBytes(D, w.cols);
  const auto* base = static_cast<const uint8_t*>(w.data) + static_cast<size_t>(row0) * row_bytes;
  const int64_t kc8 = (kc + 7) / 8 * 8;
  for (int j = 0; j < kNr; ++j) {
    if (j < valid) {
      ConvertSegment<D>(base + j * row_bytes, k0, kc, rows[j]);
    } else {
      std::memset(rows[j], 0, static_cast<size_t>(kc8) * sizeof(float));
    }
  }
  for (int64_t k = 0; k < kc8; k += 8) {
    for (int half = 0; half < 2; ++half) {
      __m256 v[8];
      for (int i = 0; i < 8; ++i) v[i] = _mm256_load_ps(&rows[8 * half + i][k]);
      Transpose8x8(v);
      for (int i = 0; i < 8; ++i) _mm256_store_ps(panel + (k + i) * kNr + 8 * half, v[i]);
    }
  }
}

// panel[k·kMr + i] = X[t0 + i][k0 + k] for i < valid (0 beyond), k < kc.
void PackTokens(const float* x, int64_t cols, int64_t t0, int valid, int64_t k0, int64_t kc,
                float* panel) {
  for (int i = 0; i < kMr; ++i) {
    if (i < valid) {
      const float* src = x + (t0 + i) * cols + k0;
      for (int64_t k = 0; k < kc; ++k) panel[k * kMr + i] = src[k];
    } else {
      for (int64_t k = 0; k < kc; ++k) panel[k * kMr + i] = 0.0f;
    }
  }
}

// c[i·ldc + j] (+)= Σ_k a[k·kMr + i] · b[k·kNr + j] over the full kMr × kNr tile.
template <bool kAccumulate>
void MicroKernel(const float* a, const float* b, int64_t kc, float* c, int64_t ldc) {
  __m256 acc[kMr][2];
#pragma GCC unroll 6
  for (int i = 0; i < kMr; ++i) acc[i][0] = acc[i][1] = _mm256_setzero_ps();
  for (int64_t k = 0; k < kc; ++k, a += kMr, b += kNr) {
    const __m256 b0 = _mm256_load_ps(b), b1 = _mm256_load_ps(b + 8);
#pragma GCC unroll 6
    for (int i = 0; i < kMr; ++i) {
      const __m256 ai = _mm256_broadcast_ss(a + i);
      acc[i][0] = _mm256_fmadd_ps(ai, b0, acc[i][0]);
      acc[i][1] = _mm256_fmadd_ps(ai, b1, acc[i][1]);
    }
  }
#pragma GCC unroll 6
  for (int i = 0; i < kMr; ++i) {
    float* row = c + i * ldc;
    if constexpr (kAccumulate) {
      acc[i][0] = _mm256_add_ps(acc[i][0], _mm256_loadu_ps(row));
      acc[i][1] = _mm256_add_ps(acc[i][1], _mm256_loadu_ps(row + 8));
    }
    _mm256_storeu_ps(row, acc[i][0]);
    _mm256_storeu_ps(row + 8, acc[i][1]);
  }
}

// One tile of Y: tokens [t0, t0 + mt), weight rows [j0, j0 + nt), slice accumulated unless first.
void Tile(const float* a, const float* b, int64_t kc, bool first, float* y, int64_t ldy, int mt,
          int nt) {
  if (mt == kMr && nt == kNr) {
    if (first) {
      MicroKernel<false>(a, b, kc, y, ldy);
    } else {
      MicroKernel<true>(a, b, kc, y, ldy);
    }
    return;
  }
  // Edge tiles go through a full-size scratch tile so no write lands outside Y.
  alignas(32) float tile[kMr * kNr];
  MicroKernel<false>(a, b, kc, tile, kNr);
  for (int i = 0; i < mt; ++i) {
    for (int j = 0; j < nt; ++j) {
      float& out = y[i * ldy + j];
      out = first ? tile[i * kNr + j] : out + tile[i * kNr + j];
    }
  }
}

// Scratch for the packed tokens of one slice: per calling thread (sessions on different threads
// never share it), grown to the largest n seen and then reused.
float* TokenPanels(size_t floats) {
  thread_local std::vector<float> packed;
  if (packed.size() < floats) packed.resize(floats);
  return packed.data();
}

template <DType D>
void Matmul(const MatRef& w, const float* x, int64_t n, float* y) {
  const int64_t rows = w.rows, cols = w.cols;
  const int64_t token_panels = (n + kMr - 1) / kMr;
  const int64_t row_blocks = (rows + kNr - 1) / kNr;
  float* const tokens = TokenPanels(static_cast<size_t>(token_panels * kMr * kKc));
  ThreadPool& pool = KernelPool();
  for (int64_t k0 = 0; k0 < cols; k0 += kKc) {
    const int64_t kc = std::min(kKc, cols - k0);
    pool.ParallelFor(token_panels, 8, [&](int64_t begin, int64_t end) {
      for (int64_t p = begin; p < end; ++p) {
        const int valid = static_cast<int>(std::min<int64_t>(kMr, n - p * kMr));
        PackTokens(x, cols, p * kMr, valid, k0, kc, tokens + p * kMr * kc);
      }
    });
    pool.ParallelFor(row_blocks, 1, [&](int64_t begin, int64_t end) {
      alignas(32) float weights[kKc * kNr];
      for (int64_t rb = begin; rb < end; ++rb) {
        const int64_t j0 = rb * kNr;
        const int nt = static_cast<int>(std::min<int64_t>(kNr, rows - j0));
        PackWeights<D>(w, j0, nt, k0, kc, weights);
        for (int64_t p = 0; p < token_panels; ++p) {
          const int mt = static_cast<int>(std::min<int64_t>(kMr, n - p * kMr));
          Tile(tokens + p * kMr * kc, weights, kc, k0 == 0, y + p * kMr * rows + j0, rows, mt, nt);
        }
      }
    });
  }
  if (cols == 0) {
    for (int64_t i = 0; i < n * rows; ++i) y[i] = 0.0f;
  }
}

}  // namespace

void MatmulAvx2(const MatRef& w, const float* x, int64_t n, float* y) {
  WithFloatType(w.dtype, [&](auto d) { Matmul<decltype(d)::value>(w, x, n, y); });
}

}  // namespace anser
