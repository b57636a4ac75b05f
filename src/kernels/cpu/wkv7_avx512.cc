// The WKV-7 recurrence on AVX-512: as wkv7_avx2.cc, sixteen key indices per register (a head of
// 64 is four registers per row) and the tail of a row in masked registers.
#include "kernels/cpu/avx512.h"
#include "kernels/cpu/simd_avx512.h"
#include "kernels/cpu/wkv7_heads.h"

namespace anser {
namespace {

// The lanes of columns [j, j + 16) that lie in a row of n.
inline __mmask16 RowLanes(int64_t j, int64_t n) {
  return j + 16 <= n ? __mmask16{0xffff} : FirstLanes(n - j);
}

// out[q] = sum of acc[q]'s lanes for R accumulators.
template <int R>
void Sums(const __m512* acc, float* out) {
  if constexpr (R == 4) {
    _mm_storeu_ps(out, Hsum16x4(acc[0], acc[1], acc[2], acc[3]));
  } else {
    for (int q = 0; q < R; ++q) out[q] = Hsum16(acc[q]);
  }
}

// Rows [i0, i0 + R) of one head's state s (n×n) for one token.
template <int R>
void UpdateRows(float* s, int64_t n, int64_t i0, const HeadToken& p) {
  float* rows[R];
  for (int q = 0; q < R; ++q) rows[q] = s + (i0 + q) * n;
  // sa = row · a (masked-off lanes load zeros)
  __m512 acc[R];
  for (int q = 0; q < R; ++q) acc[q] = _mm512_setzero_ps();
  for (int64_t j = 0; j < n; j += 16) {
    const __mmask16 m = RowLanes(j, n);
    const __m512 aj = _mm512_maskz_loadu_ps(m, p.a + j);
    for (int q = 0; q < R; ++q)
      acc[q] = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, rows[q] + j), aj, acc[q]);
  }
  float sa[R];
  Sums<R>(acc, sa);
  // row = row ⊙ w + sa·b + v_i·k ; y_i = row · r
  __m512 vsa[R], vv[R];
  for (int q = 0; q < R; ++q) {
    vsa[q] = _mm512_set1_ps(sa[q]);
    vv[q] = _mm512_set1_ps(p.v[i0 + q]);
    acc[q] = _mm512_setzero_ps();
  }
  for (int64_t j = 0; j < n; j += 16) {
    const __mmask16 m = RowLanes(j, n);
    const __m512 wj = _mm512_maskz_loadu_ps(m, p.w + j), bj = _mm512_maskz_loadu_ps(m, p.b + j);
    const __m512 kj = _mm512_maskz_loadu_ps(m, p.k + j), rj = _mm512_maskz_loadu_ps(m, p.r + j);
    for (int q = 0; q < R; ++q) {
      const __m512 add = _mm512_fmadd_ps(vsa[q], bj, _mm512_mul_ps(vv[q], kj));
      const __m512 row = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, rows[q] + j), wj, add);
      _mm512_mask_storeu_ps(rows[q] + j, m, row);
      // Masked-off lanes keep the sum (an infinite sa would make them NaN otherwise).
      acc[q] = _mm512_mask3_fmadd_ps(row, rj, acc[q], m);
    }
  }
  float out[R];
  Sums<R>(acc, out);
  for (int q = 0; q < R; ++q) p.y[i0 + q] = out[q];
}

}  // namespace

void Wkv7Avx512(const Wkv7Args& args) {
  RunWkv7<4>(
      args, [](auto... a) { UpdateRows<4>(a...); }, [](auto... a) { UpdateRows<1>(a...); });
}

}  // namespace anser
