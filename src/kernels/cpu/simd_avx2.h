// Small AVX2 helpers shared by the SIMD kernels (include only from ISA-compiled files). In an
// unnamed namespace, so each ISA's translation unit keeps its own copy (see quant_avx2.h).
#pragma once

#include <immintrin.h>

#include <cstdint>
#include <cstring>
#include <type_traits>

#include "core/dtype.h"
#include "kernels/cpu/tiles.h"

namespace anser {
namespace {

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
inline __m256 LoadPartial8(const uint8_t* p, int64_t m) {
  constexpr size_t kSize = D == DType::kF32 ? 4 : 2;
  alignas(32) uint8_t buf[32] = {};
  std::memcpy(buf, p, static_cast<size_t>(m) * kSize);
  return Load8<D>(buf);
}

// The AVX2 vector for the kernels written over a vector type (float_product.h): one token per
// register.
struct Avx2Floats {
  using Reg = __m256;
  static constexpr int kLanes = 8;
  static constexpr int kTokensPerReg = 1;
  // A 4 × 3 register tile: 12 accumulators, 3 token vectors and one weight vector fill the 16
  // registers; per column step 12 FMAs against 7 loads.
  static constexpr int kTileRows = 4;
  static constexpr int kTileTokens = 3;
  static constexpr int64_t kTokenBlockBytes = 256 << 10;
  static Reg Zero() { return _mm256_setzero_ps(); }
  static Reg Fma(Reg a, Reg b, Reg c) { return _mm256_fmadd_ps(a, b, c); }
  // Columns [0, m) of a row of type D (m ≤ kLanes), zero beyond.
  template <DType D>
  static Reg LoadRow(const uint8_t* p, int64_t m) {
    return m == kLanes ? Load8<D>(p) : LoadPartial8<D>(p, m);
  }
  // Columns [0, m) of the token at p (`ldx` and `count`, for registers of several tokens, are 1).
  static Reg LoadTokens(const float* p, int64_t /*ldx*/, int /*count*/, int64_t m) {
    return LoadRow<DType::kF32>(reinterpret_cast<const uint8_t*>(p), m);
  }
  static void Prefetch(const uint8_t* p) {
    _mm_prefetch(reinterpret_cast<const char*>(p), _MM_HINT_T0);
  }
  // out[0] = the sum of v's lanes; out[j] of Sum4 that of the j-th register.
  static void Sum(Reg v, float* out, int64_t /*ldy*/, int /*count*/) { *out = Hsum(v); }
  static void Sum4(Reg a, Reg b, Reg c, Reg d, float* out, int64_t /*ldy*/, int /*count*/) {
    _mm_storeu_ps(out, Hsum4(a, b, c, d));
  }
};

// The AVX2 registers of the block-quantized tile kernels (quant_gemv_avx2.h): kTiles8, one
// 32-bit lane per row of a group.
struct Avx2Tiles {
  using I = __m256i;
  using F = __m256;
  static constexpr MatLayout kLayout = MatLayout::kTiles8;
  static constexpr int kGroupRows = 8;  // rows of a group of the layout
  static constexpr int kRows = 8;       // rows of a register
  static I Load(const uint8_t* p) { return _mm256_loadu_si256(reinterpret_cast<const I*>(p)); }
  // Activation bytes 4k..4k+3 of a block in every 32-bit lane.
  static I Quad(const int8_t* x, int k) {
    int32_t quad;
    std::memcpy(&quad, x + 4 * k, sizeof(quad));
    return _mm256_set1_epi32(quad);
  }
  static I ZeroInt() { return _mm256_setzero_si256(); }
  static I Add(I a, I b) { return _mm256_add_epi32(a, b); }
  static I Sub(I a, I b) { return _mm256_sub_epi32(a, b); }
  static I And(I a, I b) { return _mm256_and_si256(a, b); }
  static I Xor(I a, I b) { return _mm256_xor_si256(a, b); }
  static I Or(I a, I b) { return _mm256_or_si256(a, b); }
  static I Bytes(int8_t v) { return _mm256_set1_epi8(v); }
  // The 16 bytes at p in every 128-bit lane, and byte i of each lane of `table` looked up by the
  // byte codes (0..15) of `codes`.
  static I Table16(const int8_t* p) {
    return _mm256_broadcastsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
  }
  static I Lookup(I table, I codes) { return _mm256_shuffle_epi8(table, codes); }
  // Each 16-bit lane shifted left by `bits` (right for negative `bits`).
  static I Shift16(I v, int bits) {
    return bits >= 0 ? _mm256_sll_epi16(v, _mm_cvtsi32_si128(bits))
                     : _mm256_srl_epi16(v, _mm_cvtsi32_si128(-bits));
  }
  static I Sub(I a, int32_t b) { return _mm256_sub_epi32(a, _mm256_set1_epi32(b)); }
  static I Ints(int32_t v) { return _mm256_set1_epi32(v); }
  // Each 32-bit lane shifted left by `bits` (right for negative `bits`).
  static I Shift32(I v, int bits) {
    return bits >= 0 ? _mm256_sll_epi32(v, _mm_cvtsi32_si128(bits))
                     : _mm256_srl_epi32(v, _mm_cvtsi32_si128(-bits));
  }
  // The kRows bytes at p, one per 32-bit lane.
  static I ByteInts(const uint8_t* p) {
    return _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p)));
  }
  static I SignedByteInts(const uint8_t* p) {
    return _mm256_cvtepi8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p)));
  }
  static I Mullo(I a, I b) { return _mm256_mullo_epi32(a, b); }
  static F Zero() { return _mm256_setzero_ps(); }
  static F Float(I v) { return _mm256_cvtepi32_ps(v); }
  // The kRows f16 values at p (a row field of a block column), as floats.
  static F Halves(const uint8_t* p) {
    return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
  }
  static F Mul(F a, float b) { return _mm256_mul_ps(a, _mm256_set1_ps(b)); }
  static F Mul(F a, F b) { return _mm256_mul_ps(a, b); }
  static F Sub(F a, F b) { return _mm256_sub_ps(a, b); }
  static F Fma(F a, F b, F c) { return _mm256_fmadd_ps(a, b, c); }
  static F FmaScalar(F a, float b, F c) { return _mm256_fmadd_ps(a, _mm256_set1_ps(b), c); }
  static void Store(float* p, F v) { _mm256_storeu_ps(p, v); }
};

// kTiles16 groups in 256-bit registers, eight rows (half a group) at a time: what the avx512
// table's one-token product runs (see tables.cc), each lane computed as with Avx512Tiles.
struct Avx2Tiles16 : Avx2Tiles {
  static constexpr MatLayout kLayout = MatLayout::kTiles16;
  static constexpr int kGroupRows = 16;
};

}  // namespace
}  // namespace anser
