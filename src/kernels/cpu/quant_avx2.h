// AVX2 pieces of the block-quantized kernels: weights of one block as 32 bytes, and float
// activations quantized to 8 bits per 32-block (GGML's q8_0 with the block sum kept as well).
//
// In an unnamed namespace, as every header of ISA-compiled helpers here: each translation unit
// (AVX2, AVX-VNNI, AVX-512) keeps its own copy, compiled with its own flags, and the linker
// never lets one ISA's build of a shared inline function (or of a std::vector<float> member)
// run in another's table: an AVX-512 build may use EVEX encodings an AVX2-only CPU faults on.
#pragma once

#include <immintrin.h>

#include <cstdint>
#include <vector>

#include "core/dtype.h"
#include "kernels/quant_blocks.h"

namespace anser {
namespace {

// Whether a block type's quants are signed values (q8_0's, iq4_nl's levels) rather than unsigned
// codes whose offset BlockOffset applies.
constexpr bool SignedQuants(DType d) { return d == DType::kQ8_0 || d == DType::kIQ4_NL; }

// The super-block types whose 32-element pieces split into two 16-element groups with scales of
// their own.
constexpr bool K16Scales(DType d) {
  return d == DType::kQ6_K || d == DType::kQ3_K || d == DType::kQ2_K;
}

// iq4_nl's 16 levels in both 128-bit lanes: a byte shuffle turns 4-bit codes into them.
inline __m256i Iq4LevelTable() {
  return _mm256_broadcastsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(kIq4Levels)));
}

// The 32 quants of a 16-byte nibble field in element order: low nibbles are elements 0..15, high
// nibbles 16..31.
inline __m256i Nibbles(const uint8_t* qs) {
  const __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(qs));
  const __m128i low = _mm_set1_epi8(0x0f);
  return _mm256_set_m128i(_mm_and_si128(_mm_srli_epi16(bytes, 4), low), _mm_and_si128(bytes, low));
}

// The 32 quants of a block in element order: signed for q8_0 and iq4_nl (its levels); for the
// other types unsigned (0..15 or 0..31), their offset applied separately by BlockOffset.
template <DType D>
inline __m256i BlockQuants(const uint8_t* blk) {
  if constexpr (D == DType::kQ8_0) {
    return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk + kQ8_0Qs));
  } else if constexpr (D == DType::kIQ4_NL) {
    return _mm256_shuffle_epi8(Iq4LevelTable(), Nibbles(blk + kIQ4_NLQs));
  } else {
    constexpr int kQs = D == DType::kQ4_0   ? kQ4_0Qs
                        : D == DType::kQ4_1 ? kQ4_1Qs
                        : D == DType::kQ5_1 ? kQ5_1Qs
                                            : kQ5_0Qs;
    __m256i q = Nibbles(blk + kQs);
    if constexpr (D == DType::kQ5_0 || D == DType::kQ5_1) {
      // Spread bit j of qh to byte j: byte j takes qh's byte j/8, then tests bit j%8.
      const auto qh = static_cast<int>(LoadU32(blk + (D == DType::kQ5_0 ? kQ5_0Qh : kQ5_1Qh)));
      const __m256i spread = _mm256_shuffle_epi8(
          _mm256_set1_epi32(qh),
          _mm256_set_epi64x(0x0303030303030303, 0x0202020202020202, 0x0101010101010101, 0));
      const __m256i bit = _mm256_set1_epi64x(static_cast<int64_t>(0x8040201008040201));
      const __m256i set = _mm256_cmpeq_epi8(_mm256_and_si256(spread, bit), bit);
      q = _mm256_or_si256(q, _mm256_and_si256(set, _mm256_set1_epi8(0x10)));
    }
    return q;
  }
}

inline float BlockScale(const uint8_t* blk) { return _cvtsh_ss(LoadU16(blk)); }

// What every weight of the block adds to its quant times the scale: value = q·d + offset.
template <DType D>
inline float BlockOffset(const uint8_t* blk, float d) {
  if constexpr (D == DType::kQ4_0) return -8.0f * d;
  if constexpr (D == DType::kQ4_1) return _cvtsh_ss(LoadU16(blk + kQ4_1M));
  if constexpr (D == DType::kQ5_0) return -16.0f * d;
  if constexpr (D == DType::kQ5_1) return _cvtsh_ss(LoadU16(blk + kQ5_1M));
  return 0.0f;
}

// One token's activations, quantized per 32-block: x ≈ d·q with q in [−127, 127]; Σq (and
// s = d·Σq) serve the weights' offsets.
struct QuantizedActs {
  struct alignas(32) Block {
    int8_t q[kQBlock];
    float d, s;
    int32_t sum;
  };
  std::vector<Block> blocks;
};

// k·sum modulo 2^32, as the vector arithmetic takes it: a block of non-finite activations has a
// meaningless sum (its scale is NaN anyway), whose product must not be UB.
inline int32_t TimesSum(uint32_t k, int32_t sum) {
  return static_cast<int32_t>(k * static_cast<uint32_t>(sum));
}

// Quantizes `cols` (a multiple of 32) floats into `out`, growing it only when needed.
inline void QuantizeActs(const float* x, int64_t cols, QuantizedActs& out) {
  const auto blocks = static_cast<size_t>(cols / kQBlock);
  if (out.blocks.size() < blocks) out.blocks.resize(blocks);
  const __m256 abs_mask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
  // packs interleaves the 128-bit lanes; this puts the four groups of 8 back in order.
  const __m256i order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
  for (size_t b = 0; b < blocks; ++b) {
    QuantizedActs::Block& blk = out.blocks[b];
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
    _mm256_store_si256(reinterpret_cast<__m256i*>(blk.q), ordered);
    blk.d = d;
    __m128i s = _mm_add_epi32(_mm256_castsi256_si128(sum), _mm256_extracti128_si256(sum, 1));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4e));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xb1));
    blk.sum = _mm_cvtsi128_si32(s);
    blk.s = d * static_cast<float>(blk.sum);
  }
}

}  // namespace
}  // namespace anser
