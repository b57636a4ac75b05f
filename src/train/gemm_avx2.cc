#include "train/gemm_avx2.h"

#include <immintrin.h>

#include "core/cpu_features.h"

namespace anser {
namespace {

// R rows × 16 columns of C live in 2·R registers while p runs: each B vector loaded feeds R
// FMAs, instead of the load-add-store per element of the portable axpy loop.
template <int R>
__attribute__((target("avx2,fma"))) void Block16(const float* a, int64_t rs, int64_t ps,
                                                 const float* b, int64_t m, float* c, int64_t p0,
                                                 int64_t p1, int64_t j) {
  __m256 acc[R][2];
  for (int r = 0; r < R; ++r) {
    acc[r][0] = _mm256_loadu_ps(c + r * m + j);
    acc[r][1] = _mm256_loadu_ps(c + r * m + j + 8);
  }
  for (int64_t p = p0; p < p1; ++p) {
    const __m256 b0 = _mm256_loadu_ps(b + p * m + j), b1 = _mm256_loadu_ps(b + p * m + j + 8);
    for (int r = 0; r < R; ++r) {
      const __m256 s = _mm256_broadcast_ss(a + r * rs + p * ps);
      acc[r][0] = _mm256_fmadd_ps(s, b0, acc[r][0]);
      acc[r][1] = _mm256_fmadd_ps(s, b1, acc[r][1]);
    }
  }
  for (int r = 0; r < R; ++r) {
    _mm256_storeu_ps(c + r * m + j, acc[r][0]);
    _mm256_storeu_ps(c + r * m + j + 8, acc[r][1]);
  }
}

template <int R>
__attribute__((target("avx2,fma"))) void Block8(const float* a, int64_t rs, int64_t ps,
                                                const float* b, int64_t m, float* c, int64_t p0,
                                                int64_t p1, int64_t j) {
  __m256 acc[R];
  for (int r = 0; r < R; ++r) acc[r] = _mm256_loadu_ps(c + r * m + j);
  for (int64_t p = p0; p < p1; ++p) {
    const __m256 b0 = _mm256_loadu_ps(b + p * m + j);
    for (int r = 0; r < R; ++r)
      acc[r] = _mm256_fmadd_ps(_mm256_broadcast_ss(a + r * rs + p * ps), b0, acc[r]);
  }
  for (int r = 0; r < R; ++r) _mm256_storeu_ps(c + r * m + j, acc[r]);
}

template <int R>
__attribute__((target("avx2,fma"))) void Rows(const float* a, int64_t rs, int64_t ps,
                                              const float* b, int64_t m, float* c, int64_t p0,
                                              int64_t p1) {
  int64_t j = 0;
  for (; j + 16 <= m; j += 16) Block16<R>(a, rs, ps, b, m, c, p0, p1, j);
  for (; j + 8 <= m; j += 8) Block8<R>(a, rs, ps, b, m, c, p0, p1, j);
  for (; j < m; ++j) {
    for (int r = 0; r < R; ++r) {
      float s = c[r * m + j];
      for (int64_t p = p0; p < p1; ++p) s = __builtin_fmaf(a[r * rs + p * ps], b[p * m + j], s);
      c[r * m + j] = s;
    }
  }
}

}  // namespace

bool TrainAvx2Available() {
  const CpuFeatures& cpu = GetCpuFeatures();
  return cpu.avx2 && cpu.fma;
}

void GemmRowsAvx2(const float* a, int64_t row_stride, int64_t col_stride, const float* b, int64_t m,
                  float* c, int64_t i0, int64_t i1, int64_t p0, int64_t p1) {
  int64_t i = i0;
  for (; i + 4 <= i1; i += 4)
    Rows<4>(a + i * row_stride, row_stride, col_stride, b, m, c + i * m, p0, p1);
  for (; i < i1; ++i) Rows<1>(a + i * row_stride, row_stride, col_stride, b, m, c + i * m, p0, p1);
}

}  // namespace anser
