// Block-quantized products on AVX2: the 8-bit dot product is maddubs
// (unsigned × signed bytes to 16-bit pair sums) widened by madd.
#include "kernels/cpu/avx2.h"
#include "kernels/cpu/quant_gemv_avx2.h"

namespace anser {
namespace {

template <DType D>
struct Avx2Dot {
  // maddubs multiplies unsigned by signed bytes: for q8_0 and iq4_nl the weight's sign moves
  // onto x; the other types' quants are unsigned (≤ 31) already. |x| ≤ 127 keeps every pair sum
  // in int16.
  static __m256i Unsigned(__m256i q) { return SignedQuants(D) ? _mm256_sign_epi8(q, q) : q; }
  static __m256i Signed(__m256i x, __m256i q) {
    return SignedQuants(D) ? _mm256_sign_epi8(x, q) : x;
  }

  struct Block {
    explicit Block(__m256i quants) : q(quants), u(Unsigned(quants)) {}
    __m256i Dot(const QuantizedActs::Block& x) const {
      const __m256i xq = _mm256_load_si256(reinterpret_cast<const __m256i*>(x.q));
      return _mm256_madd_epi16(_mm256_maddubs_epi16(u, Signed(xq, q)), _mm256_set1_epi16(1));
    }
    __m256i q, u;
  };

  struct Tile {
    explicit Tile(const __m256i* qt) {
      for (int k = 0; k < 8; ++k) q[k] = qt[k], u[k] = Unsigned(qt[k]);
    }
    __m256i Dot(const QuantizedActs::Block& x) const {
      const __m256i ones = _mm256_set1_epi16(1);
      __m256i dot = _mm256_setzero_si256();
      // A q8_0 (iq4_nl) pair sum may reach 2·127·127, so each is widened at once. A 4-bit pair
      // sum is at most 2·15·127 (2·31·127 for q5_0 and q5_1, 2·63·127 for q6_K's unsigned
      // quants): eight (four, two) of them fit in int16, so the widening multiply-add runs once
      // (twice, four times) per block instead of eight times.
      constexpr int kPerWiden = SignedQuants(D)                         ? 1
                                : D == DType::kQ6_K                     ? 2
                                : D == DType::kQ5_0 || D == DType::kQ5_1 ? 4
                                                                         : 8;
      for (int k0 = 0; k0 < 8; k0 += kPerWiden) {
        __m256i p = _mm256_maddubs_epi16(u[k0], Signed(Avx2Tiles::Quad(x.q, k0), q[k0]));
        for (int k = k0 + 1; k < k0 + kPerWiden; ++k)
          p = _mm256_add_epi16(p,
                               _mm256_maddubs_epi16(u[k], Signed(Avx2Tiles::Quad(x.q, k), q[k])));
        dot = _mm256_add_epi32(dot, _mm256_madd_epi16(p, ones));
      }
      return dot;
    }
    // The dot over elements 16·h … 16·h + 15 alone (registers 4h … 4h + 3), for the types
    // whose two halves of a block have scales of their own (K16Scales). Two of q6_K's pair sums
    // (each at most 2·63·127) fit in int16, all four of q3_K's and q2_K's (0…7, 0…3).
    __m256i Half(const QuantizedActs::Block& x, int h) const {
      static_assert(K16Scales(D));
      constexpr int kPerWiden = D == DType::kQ6_K ? 2 : 4;
      const __m256i ones = _mm256_set1_epi16(1);
      __m256i dot = _mm256_setzero_si256();
      for (int k0 = 4 * h; k0 < 4 * h + 4; k0 += kPerWiden) {
        __m256i p = _mm256_maddubs_epi16(u[k0], Avx2Tiles::Quad(x.q, k0));
        for (int k = k0 + 1; k < k0 + kPerWiden; ++k)
          p = _mm256_add_epi16(p, _mm256_maddubs_epi16(u[k], Avx2Tiles::Quad(x.q, k)));
        dot = _mm256_add_epi32(dot, _mm256_madd_epi16(p, ones));
      }
      return dot;
    }
    __m256i q[8], u[8];
  };
};

}  // namespace

void GemvQuantAvx2(const MatRef& w, const float* x, int64_t n, float* y) {
  GemvQuant<Avx2Tiles, Avx2Dot>(w, x, n, y);
}

}  // namespace anser
