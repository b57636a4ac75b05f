// Matrix–vector products for f32, f16 and bf16 weights, for one token or a few (batched
// decode). These are bound by how fast the weights stream from memory, so each row is read from
// memory once: rows go four at a time and tokens two at a time, each weight vector converted
// once for both tokens and each x vector loaded once for the four rows. With one token there are
// two accumulators per row, so eight FMA chains hide the FMA latency either way.
#include <algorithm>

#include "core/thread_pool.h"
#include "kernels/cpu/avx2.h"
#include "kernels/cpu/matvec_split.h"
#include "kernels/cpu/simd_avx2.h"

namespace anser {
namespace {

// y_t[r] = row_r · x_t for R rows from row0 and T tokens (x_t at x + t·cols, y_t at y + t·ldy).
// With `prefetch` set, the R rows that follow are prefetched as these are read: when the group
// is read again for more tokens, the hardware prefetcher loses the stream. One token streams the
// weights once, prefetched kStreamPrefetchBytes ahead.
template <DType D, int R, int T>
void DotRows(const uint8_t* row0, size_t row_bytes, const float* x, int64_t cols, float* y,
             int64_t ldy, bool prefetch) {
  constexpr size_t kSize = D == DType::kF32 ? 4 : 2;
  constexpr int kU = T == 1 ? 2 : 1;  // independent accumulators per (row, token)
  const uint8_t* rows[R];
  for (int r = 0; r < R; ++r) rows[r] = row0 + r * row_bytes;
  __m256 acc[kU][R][T];
  for (int u = 0; u < kU; ++u) {
    for (int r = 0; r < R; ++r) {
      for (int t = 0; t < T; ++t) acc[u][r][t] = _mm256_setzero_ps();
    }
  }
  // One step of 8 columns at c into accumulator set u; `full` is false only for the tail.
  const auto step = [&](int64_t c, int u, bool full) {
    if (prefetch && (c * kSize) % 64 == 0) {
      for (int r = 0; r < R; ++r)
        _mm_prefetch(reinterpret_cast<const char*>(rows[r] + R * row_bytes + c * kSize), _MM_HINT_T0);
    }
    if (T == 1 && (c * kSize) % 64 == 0) {
      for (int r = 0; r < R; ++r)
        _mm_prefetch(reinterpret_cast<const char*>(rows[r] + kStreamPrefetchBytes + c * kSize), _MM_HINT_T0);
    }
    __m256 xv[T];
    for (int t = 0; t < T; ++t) {
      xv[t] = full ? _mm256_loadu_ps(x + t * cols + c) : LoadPartialF32(x + t * cols + c, cols - c);
    }
    for (int r = 0; r < R; ++r) {
      const __m256 wv =
          full ? Load8<D>(rows[r] + c * kSize) : LoadPartial<D>(rows[r] + c * kSize, cols - c);
      for (int t = 0; t < T; ++t) acc[u][r][t] = _mm256_fmadd_ps(wv, xv[t], acc[u][r][t]);
    }
  };
  int64_t c = 0;
  for (; c + 8 * kU <= cols; c += 8 * kU) {
    for (int u = 0; u < kU; ++u) step(c + 8 * u, u, true);
  }
  for (; c + 8 <= cols; c += 8) step(c, 0, true);
  if (c < cols) step(c, kU - 1, false);
  for (int t = 0; t < T; ++t) {
    __m256 sum[R];
    for (int r = 0; r < R; ++r) {
      sum[r] = acc[0][r][t];
      for (int u = 1; u < kU; ++u) sum[r] = _mm256_add_ps(sum[r], acc[u][r][t]);
    }
    if constexpr (R == 4) {
      _mm_storeu_ps(y + t * ldy, Hsum4(sum[0], sum[1], sum[2], sum[3]));
    } else {
      for (int r = 0; r < R; ++r) y[t * ldy + r] = Hsum(sum[r]);
    }
  }
}

// Rows [begin, end) of y = W·x for n tokens.
template <DType D, int R>
void RowGroup(const uint8_t* row0, size_t row_bytes, const float* x, int64_t cols, int64_t n,
              float* y, int64_t ldy) {
  int64_t t = 0;
  for (; t + 2 <= n; t += 2)
    DotRows<D, R, 2>(row0, row_bytes, x + t * cols, cols, y + t * ldy, ldy, n > 2 && t == 0);
  if (t < n) DotRows<D, R, 1>(row0, row_bytes, x + t * cols, cols, y + t * ldy, ldy, false);
}

template <DType D>
void Gemv(const MatRef& w, const float* x, int64_t n, float* y) {
  const size_t row_bytes = DTypeRowBytes(D, w.cols);
  const auto* base = static_cast<const uint8_t*>(w.data);
  const int64_t chunk = MatvecRowChunk(w.rows, row_bytes, 4);
  KernelPool().ParallelFor(w.rows, chunk, [&](int64_t begin, int64_t end) {
    int64_t r = begin;
    for (; r + 4 <= end; r += 4)
      RowGroup<D, 4>(base + r * row_bytes, row_bytes, x, w.cols, n, y + r, w.rows);
    for (; r < end; ++r)
      RowGroup<D, 1>(base + r * row_bytes, row_bytes, x, w.cols, n, y + r, w.rows);
  });
}

}  // namespace

void GemvFloatAvx2(const MatRef& w, const float* x, int64_t n, float* y) {
  WithFloatType(w.dtype, [&](auto d) { Gemv<decltype(d)::value>(w, x, n, y); });
}

}  // namespace anser
