#include "kernels/cpu/quant_avx2.h"
#include "kernels/cpu/simd_avx2.h"

namespace anser {

void QuantizeActsAvx2(const float* x, int64_t cols, QuantizedActs& out) {
  const auto blocks = static_cast<size_t>(cols / kQBlock);
  if (out.q.size() < blocks) {
    out.q.resize(blocks);
    out.u.resize(blocks);
    out.d.resize(blocks);
    out.s.resize(blocks);
    out.sum.resize(blocks);
  }
  const __m256 abs_mask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
  // packs interleaves the 128-bit lanes; this puts the four groups of 8 back in order.
  const __m256i order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
  for (size_t b = 0; b < blocks; ++b) {
    __m256 v[4];
    __m256 amax = _mm256_setzero_ps();
    for (int i = 0; i < 4; ++i) {
      v[i] = _mm256_loadu_ps(x + b * kQBlock + 8 * i);
      amax = _mm256_max_ps(amax, _mm256_and_ps(v[i], abs_mask));
    }
    __m128 m = _mm_max_ps(_mm256_castps256_ps128(amax), _mm256_extractf128_ps(amax, 1));
    m = _mm_max_ps(m, _mm_movehl_ps(m, m));
    m = _mm_max_ss(m, _mm_movehdup_ps(m));
    const float max = _mm_cvtss_f32(m);
    const float d = max / 127.0f;
    const __m256 id = _mm256_set1_ps(max != 0.0f ? 127.0f / max : 0.0f);
    __m256i q[4];
    __m256i sum = _mm256_setzero_si256();
    for (int i = 0; i < 4; ++i) {
      q[i] = _mm256_cvtps_epi32(_mm256_mul_ps(v[i], id));  // rounds to nearest
      sum = _mm256_add_epi32(sum, q[i]);
    }
    const __m256i bytes =
        _mm256_packs_epi16(_mm256_packs_epi32(q[0], q[1]), _mm256_packs_epi32(q[2], q[3]));
    const __m256i ordered = _mm256_permutevar8x32_epi32(bytes, order);
    _mm256_store_si256(reinterpret_cast<__m256i*>(out.q[b].v), ordered);
    _mm256_store_si256(reinterpret_cast<__m256i*>(out.u[b].v), _mm256_xor_si256(ordered, _mm256_set1_epi8(-128)));
    out.d[b] = d;
    __m128i s = _mm_add_epi32(_mm256_castsi256_si128(sum), _mm256_extracti128_si256(sum, 1));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4e));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xb1));
    out.sum[b] = _mm_cvtsi128_si32(s);
    out.s[b] = d * static_cast<float>(out.sum[b]);
  }
}

}  // namespace anser
