// AVX-512 helpers of the *_avx512.cc kernels (include only from those files; in an unnamed
// namespace, as the other ISA helper headers, see quant_avx2.h).
#pragma once

#include <immintrin.h>

#include <cstdint>
#include <cstring>

#include "core/dtype.h"
#include "kernels/cpu/tiles.h"

namespace anser {
namespace {

// Lanes [0, m) set (m ≤ 16).
inline __mmask16 FirstLanes(int64_t m) { return static_cast<__mmask16>((1u << m) - 1u); }

// Sixteen consecutive elements of a float-type row, as floats; p may have any alignment.
template <DType D>
inline __m512 Load16(const uint8_t* p) {
  if constexpr (D == DType::kF32) {
    return _mm512_loadu_ps(p);
  } else if constexpr (D == DType::kF16) {
    return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
  } else {
    static_assert(D == DType::kBF16);
    // bf16 is the top half of an f32: widen and shift into place (exact).
    const __m512i h =
        _mm512_cvtepu16_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
    return _mm512_castsi512_ps(_mm512_slli_epi32(h, 16));
  }
}

// Elements [0, m) of a float-type row (m < 16), zero beyond. Masked loads never touch the
// memory of masked-off elements, so tails never read past the row.
template <DType D>
inline __m512 LoadPartial16(const uint8_t* p, int64_t m) {
  const __mmask16 mask = FirstLanes(m);
  if constexpr (D == DType::kF32) {
    return _mm512_maskz_loadu_ps(mask, p);
  } else if constexpr (D == DType::kF16) {
    return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(mask, p));
  } else {
    const __m512i h = _mm512_cvtepu16_epi32(_mm256_maskz_loadu_epi16(mask, p));
    return _mm512_castsi512_ps(_mm512_slli_epi32(h, 16));
  }
}

// The halves of v added lane by lane: lanes i and i + 8.
inline __m256 Fold(__m512 v) {
  const __m256 high = _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1));
  return _mm256_add_ps(_mm512_castps512_ps256(v), high);
}

// The sum of v's 16 lanes as ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7)) of s = Fold(v):
// the one tree of every AVX-512 dot product, alone (Hsum16) or four at once (Hsum16x4).
inline float Hsum16(__m512 v) {
  const __m256 f = Fold(v);
  __m128 s = _mm_hadd_ps(_mm256_castps256_ps128(f), _mm256_extractf128_ps(f, 1));
  s = _mm_hadd_ps(s, s);
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

inline __m128 Hsum16x4(__m512 a0, __m512 a1, __m512 a2, __m512 a3) {
  const __m256 t =
      _mm256_hadd_ps(_mm256_hadd_ps(Fold(a0), Fold(a1)), _mm256_hadd_ps(Fold(a2), Fold(a3)));
  return _mm_add_ps(_mm256_castps256_ps128(t), _mm256_extractf128_ps(t, 1));
}

// The AVX-512 vector for the kernels written over a vector type (float_product.h).
struct Avx512Floats {
  using Reg = __m512;
  static constexpr int kLanes = 16;
  // A 4 × 6 register tile: 24 accumulators, 6 token vectors and one weight vector of the 32
  // registers; per column step 24 FMAs against 10 loads.
  static constexpr int kTileRows = 4;
  static constexpr int kTileTokens = 6;
  static Reg Zero() { return _mm512_setzero_ps(); }
  static Reg Fma(Reg a, Reg b, Reg c) { return _mm512_fmadd_ps(a, b, c); }
  template <DType D>
  static Reg Load(const uint8_t* p) {
    return Load16<D>(p);
  }
  template <DType D>
  static Reg LoadPartial(const uint8_t* p, int64_t m) {
    return LoadPartial16<D>(p, m);
  }
  static void Store(float* p, Reg v) { _mm512_storeu_ps(p, v); }
  static void Prefetch(const uint8_t* p) {
    _mm_prefetch(reinterpret_cast<const char*>(p), _MM_HINT_T0);
  }
  static float Sum(Reg v) { return Hsum16(v); }
  static void Sum4(Reg a, Reg b, Reg c, Reg d, float* out) {
    _mm_storeu_ps(out, Hsum16x4(a, b, c, d));
  }
};

// The AVX-512 registers of the block-quantized tile kernels (quant_gemv_avx2.h): kTiles16, one
// 32-bit lane per row of a group of sixteen.
struct Avx512Tiles {
  using I = __m512i;
  using F = __m512;
  static constexpr MatLayout kLayout = MatLayout::kTiles16;
  static constexpr int kRows = 16;
  static I Load(const uint8_t* p) { return _mm512_loadu_si512(p); }
  // Activation bytes 4k..4k+3 of a block in every 32-bit lane.
  static I Quad(const int8_t* x, int k) {
    int32_t quad;
    std::memcpy(&quad, x + 4 * k, sizeof(quad));
    return _mm512_set1_epi32(quad);
  }
  static I ZeroInt() { return _mm512_setzero_si512(); }
  static I Add(I a, I b) { return _mm512_add_epi32(a, b); }
  static I Sub(I a, I b) { return _mm512_sub_epi32(a, b); }
  static I Sub(I a, int32_t b) { return _mm512_sub_epi32(a, _mm512_set1_epi32(b)); }
  static I And(I a, I b) { return _mm512_and_si512(a, b); }
  static I Xor(I a, I b) { return _mm512_xor_si512(a, b); }
  static I Or(I a, I b) { return _mm512_or_si512(a, b); }
  static I Bytes(int8_t v) { return _mm512_set1_epi8(v); }
  // Each 16-bit lane shifted left by `bits` (right for negative `bits`).
  static I Shift16(I v, int bits) {
    return bits >= 0 ? _mm512_sll_epi16(v, _mm_cvtsi32_si128(bits))
                     : _mm512_srl_epi16(v, _mm_cvtsi32_si128(-bits));
  }
  static F Zero() { return _mm512_setzero_ps(); }
  static F Float(I v) { return _mm512_cvtepi32_ps(v); }
  // The kRows f16 values at p (a row field of a block column), as floats.
  static F Halves(const uint8_t* p) {
    return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
  }
  static F Mul(F a, float b) { return _mm512_mul_ps(a, _mm512_set1_ps(b)); }
  static F Fma(F a, F b, F c) { return _mm512_fmadd_ps(a, b, c); }
  static F FmaScalar(F a, float b, F c) { return _mm512_fmadd_ps(a, _mm512_set1_ps(b), c); }
  static void Store(float* p, F v) { _mm512_storeu_ps(p, v); }
};

}  // namespace
}  // namespace anser
