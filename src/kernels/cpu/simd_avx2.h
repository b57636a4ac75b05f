// Small AVX2 helpers shared by the *_avx2.cc kernels (include only from those files).
#pragma once

#include <immintrin.h>

#include <cstdint>
#include <cstring>

#include "core/dtype.h"

namespace anser {

inline float Hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

// {Σa0, Σa1, Σa2, Σa3}: four horizontal sums for the price of about two.
inline __m128 Hsum4(__m256 a0, __m256 a1, __m256 a2, __m256 a3) {
  const __m256 t = _mm256_hadd_ps(_mm256_hadd_ps(a0, a1), _mm256_hadd_ps(a2, a3));
  return _mm_add_ps(_mm256_castps256_ps128(t), _mm256_extractf128_ps(t, 1));
}

// Eight consecutive elements of a float-type row, as floats; p may have any alignment.
template <DType D>
inline __m256 Load8(const uint8_t* p) {
  if constexpr (D == DType::kF32) {
    return _mm256_loadu_ps(reinterpret_cast<const float*>(p));
  } else if constexpr (D == DType::kF16) {
    return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
  } else {
    static_assert(D == DType::kBF16);
    // bf16 is the top half of an f32: widen and shift into place.
    const __m256i h = _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
    return _mm256_castsi256_ps(_mm256_slli_epi32(h, 16));
  }
}

// Elements [0, m) of a float-type row (m < 8), zero beyond: tails never read past the row.
template <DType D>
inline __m256 LoadPartial(const uint8_t* p, int64_t m) {
  constexpr size_t kSize = D == DType::kF32 ? 4 : 2;
  alignas(32) uint8_t buf[32] = {};
  std::memcpy(buf, p, static_cast<size_t>(m) * kSize);
  return Load8<D>(buf);
}

inline __m256 LoadPartialF32(const float* p, int64_t m) {
  return LoadPartial<DType::kF32>(reinterpret_cast<const uint8_t*>(p), m);
}

}  // namespace anser
