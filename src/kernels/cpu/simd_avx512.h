// AVX-512 helpers of the *_avx512.cc kernels (include only from those files; in an unnamed
// namespace, as the other ISA helper headers, see quant_avx2.h).
#pragma once

#include <immintrin.h>

#include <cstdint>
#include <cstring>

#include "core/dtype.h"
#include "kernels/cpu/simd_avx2.h"
#include "kernels/cpu/tiles.h"

namespace anser {
namespace {

// Lanes [0, m) set (m ≤ 8).
inline __mmask8 FirstLanes(int64_t m) { return static_cast<__mmask8>((1u << m) - 1u); }

// A register of two halves: `low` in lanes 0–7, `high` in 8–15.
inline __m512 Halves(__m256 low, __m256 high) {
  return _mm512_castpd_ps(
      _mm512_insertf64x4(_mm512_castps_pd(_mm512_castps256_ps512(low)), _mm256_castps_pd(high), 1));
}
inline __m256 LowHalf(__m512 v) { return _mm512_castps512_ps256(v); }
inline __m256 HighHalf(__m512 v) {
  return _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1));
}

// Columns [0, m) (m ≤ 8) of a row of type D, converted, in both halves of a register; zero
// beyond m. Masked loads never touch the memory of masked-off elements.
template <DType D>
inline __m512 LoadRowTwice(const uint8_t* p, int64_t m) {
  if constexpr (D == DType::kF32) {
    const auto* f = reinterpret_cast<const float*>(p);
    const __m256 v = m == 8 ? _mm256_loadu_ps(f) : _mm256_maskz_loadu_ps(FirstLanes(m), f);
    return Halves(v, v);
  } else {
    const __m128i h = m == 8 ? _mm_loadu_si128(reinterpret_cast<const __m128i*>(p))
                             : _mm_maskz_loadu_epi16(FirstLanes(m), p);
    const __m256i both = _mm256_broadcastsi128_si256(h);
    if constexpr (D == DType::kF16) {
      return _mm512_cvtph_ps(both);
    } else {
      static_assert(D == DType::kBF16);
      // bf16 is the top half of an f32: widen and shift into place (exact).
      return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(both), 16));
    }
  }
}

// The float product (float_product.h) on AVX-512 with the AVX2 table's arithmetic: the 8-lane
// accumulators and horizontal-sum tree of Avx2Floats, two tokens side by side in each 512-bit
// register (the weights converted once into both halves). Each output is summed exactly as the
// AVX2 table sums it, so the one-token product can be the AVX2 one (see tables.cc).
struct Avx512Pairs {
  using Reg = __m512;
  static constexpr int kLanes = 8;
  static constexpr int kTokensPerReg = 2;
  // A 4 × 12 tile: 24 accumulators, 6 token registers and one weight register of the 32; per
  // column step 24 FMAs (of two tokens each) against 4 weight and 6 token loads.
  static constexpr int kTileRows = 4;
  static constexpr int kTileTokens = 12;
  // Twice the AVX2 block: 256 KiB left rows of 3072 f32 a block of one 12-token tile (512
  // tokens of 768×3072 bf16 took 0.97× the avx2 table's time; with 512 KiB, 0.67×).
  static constexpr int64_t kTokenBlockBytes = 512 << 10;
  static Reg Zero() { return _mm512_setzero_ps(); }
  static Reg Fma(Reg a, Reg b, Reg c) { return _mm512_fmadd_ps(a, b, c); }
  template <DType D>
  static Reg LoadRow(const uint8_t* p, int64_t m) {
    return LoadRowTwice<D>(p, m);
  }
  // Columns [0, m) of `count` (1 or 2) tokens from p, `ldx` floats apart; zero elsewhere.
  static Reg LoadTokens(const float* p, int64_t ldx, int count, int64_t m) {
    const auto load = [m](const float* q) {
      return m == 8 ? _mm256_loadu_ps(q) : _mm256_maskz_loadu_ps(FirstLanes(m), q);
    };
    return Halves(load(p), count == 2 ? load(p + ldx) : _mm256_setzero_ps());
  }
  static void Prefetch(const uint8_t* p) {
    _mm_prefetch(reinterpret_cast<const char*>(p), _MM_HINT_T0);
  }
  // out[0] (and out[ldy] for a second token) = the sums of v's halves, as Hsum sums.
  static void Sum(Reg v, float* out, int64_t ldy, int count) {
    out[0] = Hsum(LowHalf(v));
    if (count == 2) out[ldy] = Hsum(HighHalf(v));
  }
  static void Sum4(Reg a, Reg b, Reg c, Reg d, float* out, int64_t ldy, int count) {
    _mm_storeu_ps(out, Hsum4(LowHalf(a), LowHalf(b), LowHalf(c), LowHalf(d)));
    if (count == 2)
      _mm_storeu_ps(out + ldy, Hsum4(HighHalf(a), HighHalf(b), HighHalf(c), HighHalf(d)));
  }
};

// The AVX-512 registers of the block-quantized tile kernels (quant_gemv_avx2.h): kTiles16, one
// 32-bit lane per row of a group of sixteen.
struct Avx512Tiles {
  using I = __m512i;
  using F = __m512;
  static constexpr MatLayout kLayout = MatLayout::kTiles16;
  static constexpr int kGroupRows = 16;
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
  static I Ints(int32_t v) { return _mm512_set1_epi32(v); }
  // Each 32-bit lane shifted left by `bits` (right for negative `bits`).
  static I Shift32(I v, int bits) {
    return bits >= 0 ? _mm512_sll_epi32(v, _mm_cvtsi32_si128(bits))
                     : _mm512_srl_epi32(v, _mm_cvtsi32_si128(-bits));
  }
  // The kRows bytes at p, one per 32-bit lane.
  static I ByteInts(const uint8_t* p) {
    return _mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
  }
  static I SignedByteInts(const uint8_t* p) {
    return _mm512_cvtepi8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
  }
  static I Mullo(I a, I b) { return _mm512_mullo_epi32(a, b); }
  static I And(I a, I b) { return _mm512_and_si512(a, b); }
  static I Xor(I a, I b) { return _mm512_xor_si512(a, b); }
  static I Or(I a, I b) { return _mm512_or_si512(a, b); }
  static I Bytes(int8_t v) { return _mm512_set1_epi8(v); }
  // The 16 bytes at p in every 128-bit lane, and byte i of each lane of `table` looked up by the
  // byte codes (0..15) of `codes`.
  static I Table16(const int8_t* p) {
    return _mm512_broadcast_i32x4(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
  }
  static I Lookup(I table, I codes) { return _mm512_shuffle_epi8(table, codes); }
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
  static F Mul(F a, F b) { return _mm512_mul_ps(a, b); }
  static F Sub(F a, F b) { return _mm512_sub_ps(a, b); }
  static F Fma(F a, F b, F c) { return _mm512_fmadd_ps(a, b, c); }
  static F FmaScalar(F a, float b, F c) { return _mm512_fmadd_ps(a, _mm512_set1_ps(b), c); }
  static void Store(float* p, F v) { _mm512_storeu_ps(p, v); }
};

}  // namespace
}  // namespace anser
