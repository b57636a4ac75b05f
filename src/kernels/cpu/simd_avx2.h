// Small AVX2 helpers shared by the *_avx2.cc kernels (include only from those files).
#pragma once

#include <immintrin.h>

#include <cstdint>
#include <cstring>
#include <type_traits>

#include "core/dtype.h"

namespace anser {

// The sum of v's lanes as ((v0 + v1) + (v2 + v3)) + ((v4 + v5) + (v6 + v7)): the one tree of
// every AVX2 dot product, so that a sum taken alone (Hsum) or four at once (Hsum4) is the same
// float, bit for bit.
inline float Hsum(__m256 v) {
  __m128 s = _mm_hadd_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_hadd_ps(s, s);
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

// {Σa0, Σa1, Σa2, Σa3}, each summed as Hsum does: four horizontal sums for the price of about two.
inline __m128 Hsum4(__m256 a0, __m256 a1, __m256 a2, __m256 a3) {
  const __m256 t = _mm256_hadd_ps(_mm256_hadd_ps(a0, a1), _mm256_hadd_ps(a2, a3));
  return _mm_add_ps(_mm256_castps256_ps128(t), _mm256_extractf128_ps(t, 1));
}

// Calls f(std::integral_constant<DType, D>{}) for the float weight type D (f32, f16 or bf16) of
// `dtype`, so a kernel templated on D is instantiated once per type and chosen here.
template <class F>
void WithFloatType(DType dtype, F&& f) {
  switch (dtype) {
    case DType::kF32:
      return f(std::integral_constant<DType, DType::kF32>{});
    case DType::kF16:
      return f(std::integral_constant<DType, DType::kF16>{});
    default:
      return f(std::integral_constant<DType, DType::kBF16>{});
  }
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

// The AVX2 vector for the kernels written over a vector type (float_product.h).
struct Avx2Floats {
  using Reg = __m256;
  static constexpr int kLanes = 8;
  // A 4 × 3 register tile: 12 accumulators, 3 token vectors and one weight vector fill the 16
  // registers; per column step 12 FMAs against 7 loads.
  static constexpr int kTileRows = 4;
  static constexpr int kTileTokens = 3;
  static Reg Zero() { return _mm256_setzero_ps(); }
  static Reg Fma(Reg a, Reg b, Reg c) { return _mm256_fmadd_ps(a, b, c); }
  template <DType D>
  static Reg Load(const uint8_t* p) { return Load8<D>(p); }
  template <DType D>
  static Reg LoadPartial(const uint8_t* p, int64_t m) { return anser::LoadPartial<D>(p, m); }
  static void Store(float* p, Reg v) { _mm256_storeu_ps(p, v); }
  static void Prefetch(const uint8_t* p) { _mm_prefetch(reinterpret_cast<const char*>(p), _MM_HINT_T0); }
  static float Sum(Reg v) { return Hsum(v); }
  static void Sum4(Reg a, Reg b, Reg c, Reg d, float* out) { _mm_storeu_ps(out, Hsum4(a, b, c, d)); }
};

}  // namespace anser
