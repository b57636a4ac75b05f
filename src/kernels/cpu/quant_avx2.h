// AVX2 pieces of the block-quantized kernels: weights of one block as 32 bytes, and float
// activations quantized to 8 bits per 32-block (GGML's q8_0 with the block sum kept as well).
#pragma once

#include <immintrin.h>

#include <cstdint>
#include <vector>

#include "core/dtype.h"
#include "kernels/quant_blocks.h"

namespace anser {

// The 32 quants of a block in element order: signed for q8_0; for the other types unsigned
// (0..15 or 0..31), their offset applied separately by BlockOffset.
template <DType D>
inline __m256i BlockQuants(const uint8_t* blk) {
  if constexpr (D == DType::kQ8_0) {
    return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk + kQ8_0Qs));
  } else {
    constexpr int kQs = D == DType::kQ4_0 ? kQ4_0Qs : D == DType::kQ4_1 ? kQ4_1Qs : kQ5_0Qs;
    const __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(blk + kQs));
    const __m128i low = _mm_set1_epi8(0x0f);
    // Low nibbles are elements 0..15, high nibbles 16..31.
    __m256i q =
        _mm256_set_m128i(_mm_and_si128(_mm_srli_epi16(bytes, 4), low), _mm_and_si128(bytes, low));
    if constexpr (D == DType::kQ5_0) {
      // Spread bit j of qh to byte j: byte j takes qh's byte j/8, then tests bit j%8.
      const auto qh = static_cast<int>(LoadU32(blk + kQ5_0Qh));
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
  return 0.0f;
}

// x quantized per 32-block: x ≈ d·q with q in [−127, 127]; Σq (and s = d·Σq) serve the
// weights' offsets. u = q + 128 as unsigned bytes, for AVX-VNNI's dpbusd, whose unsigned side
// it is when the weights are signed.
struct QuantizedActs {
  struct alignas(32) Quants {
    int8_t v[kQBlock];
  };
  std::vector<Quants> q, u;
  std::vector<float> d, s;
  std::vector<int32_t> sum;
};

// Quantizes `cols` (a multiple of 32) floats into `out`, growing its buffers only when needed.
void QuantizeActsAvx2(const float* x, int64_t cols, QuantizedActs& out);

}  // namespace anser
