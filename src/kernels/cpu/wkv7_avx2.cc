// The WKV-7 recurrence. Per head and token every state row i is updated as
//   row = row ⊙ w + (row · a) b + v_i k ;  y_i = row · r
// SIMD runs along a row (the key index j); rows go four at a time so w, a, b, k, r are loaded
// once for four rows and the eight horizontal sums cost about four. Heads are independent and
// run in parallel, each keeping its N×N state in cache over all of its tokens.
#include "core/thread_pool.h"
#include "kernels/cpu/avx2.h"
#include "kernels/cpu/simd_avx2.h"

namespace anser {
namespace {

struct HeadToken {
  const float *r, *w, *k, *v, *a, *b;
  float* y;
};

// Rows [i0, i0 + R) of one head's state s (n×n) for one token.
template <int R>
void UpdateRows(float* s, int64_t n, int64_t i0, const HeadToken& p) {
  const int64_t n8 = n / 8 * 8;
  float* rows[R];
  for (int q = 0; q < R; ++q) rows[q] = s + (i0 + q) * n;
  // sa = row · a
  __m256 acc[R];
  for (int q = 0; q < R; ++q) acc[q] = _mm256_setzero_ps();
  for (int64_t j = 0; j < n8; j += 8) {
    const __m256 aj = _mm256_loadu_ps(p.a + j);
    for (int q = 0; q < R; ++q) acc[q] = _mm256_fmadd_ps(_mm256_loadu_ps(rows[q] + j), aj, acc[q]);
  }
  float sa[R];
  if constexpr (R == 4) {
    _mm_storeu_ps(sa, Hsum4(acc[0], acc[1], acc[2], acc[3]));
  } else {
    for (int q = 0; q < R; ++q) sa[q] = Hsum(acc[q]);
  }
  for (int q = 0; q < R; ++q) {
    for (int64_t j = n8; j < n; ++j) sa[q] += rows[q][j] * p.a[j];
  }
  // row = row ⊙ w + sa·b + v_i·k ; y_i = row · r
  __m256 vsa[R], vv[R];
  for (int q = 0; q < R; ++q) {
    vsa[q] = _mm256_set1_ps(sa[q]);
    vv[q] = _mm256_set1_ps(p.v[i0 + q]);
    acc[q] = _mm256_setzero_ps();
  }
  for (int64_t j = 0; j < n8; j += 8) {
    const __m256 wj = _mm256_loadu_ps(p.w + j), bj = _mm256_loadu_ps(p.b + j);
    const __m256 kj = _mm256_loadu_ps(p.k + j), rj = _mm256_loadu_ps(p.r + j);
    for (int q = 0; q < R; ++q) {
      const __m256 add = _mm256_fmadd_ps(vsa[q], bj, _mm256_mul_ps(vv[q], kj));
      const __m256 row = _mm256_fmadd_ps(_mm256_loadu_ps(rows[q] + j), wj, add);
      _mm256_storeu_ps(rows[q] + j, row);
      acc[q] = _mm256_fmadd_ps(row, rj, acc[q]);
    }
  }
  float out[R];
  if constexpr (R == 4) {
    _mm_storeu_ps(out, Hsum4(acc[0], acc[1], acc[2], acc[3]));
  } else {
    for (int q = 0; q < R; ++q) out[q] = Hsum(acc[q]);
  }
  for (int q = 0; q < R; ++q) {
    const float vi = p.v[i0 + q];
    for (int64_t j = n8; j < n; ++j) {
      rows[q][j] = rows[q][j] * p.w[j] + sa[q] * p.b[j] + vi * p.k[j];
      out[q] += rows[q][j] * p.r[j];
    }
    p.y[i0 + q] = out[q];
  }
}

void Head(const Wkv7Args& args, int64_t h) {
  const int64_t n = args.head_size;
  float* s = args.state + h * n * n;
  for (int64_t t = 0; t < args.n_tokens; ++t) {
    const int64_t o = t * args.stride + h * n;
    const HeadToken p{args.r + o, args.w + o, args.k + o, args.v + o,
                      args.a + o, args.b + o, args.y + o};
    int64_t i = 0;
    for (; i + 4 <= n; i += 4) UpdateRows<4>(s, n, i, p);
    for (; i < n; ++i) UpdateRows<1>(s, n, i, p);
  }
}

}  // namespace

void Wkv7Avx2(const Wkv7Args& args) {
  // Below ~16k multiply-adds a worker's wake-up costs more than it saves. Above, each thread
  // takes one contiguous range of heads: neighbouring heads share a cache line of state and of
  // y wherever the buffers are not 64-byte aligned, and written by two threads every token it
  // bounced between the cores (one head per chunk, 12×64, two threads: 512 tokens took 3.3 ms,
  // slower than one thread's 2.9; contiguous halves take 1.7 ms).
  const int64_t work = args.n_tokens * args.n_head * args.head_size * args.head_size;
  const int64_t threads = KernelPool().threads();
  const int64_t chunk = work < (16 << 10) ? args.n_head : (args.n_head + threads - 1) / threads;
  KernelPool().ParallelFor(args.n_head, chunk, [&](int64_t begin, int64_t end) {
    for (int64_t h = begin; h < end; ++h) Head(args, h);
  });
}

}  // namespace anser
