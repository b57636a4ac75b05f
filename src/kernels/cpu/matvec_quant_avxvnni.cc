// Block-quantized products with AVX-VNNI: dpbusd multiplies unsigned by
// signed bytes and adds each group of four into a 32-bit lane, replacing maddubs + madd and
// never saturating. That lets the q8_0 tile take x + 128 (QuantizedActs::u) as the unsigned
// side, so the weights need no sign juggling per token: the offset's share, 128·Σw, is paid once
// per block column.
#include "kernels/cpu/avxvnni.h"
#include "kernels/cpu/quant_gemv_avx2.h"

namespace anser {
namespace {

template <DType D>
struct VnniDot {
  struct Block {
    explicit Block(__m256i quants)
        : q(quants), u(D == DType::kQ8_0 ? _mm256_sign_epi8(quants, quants) : quants) {}
    __m256i Dot(const int8_t* x) const {
      const __m256i xq = _mm256_load_si256(reinterpret_cast<const __m256i*>(x));
      const __m256i s = D == DType::kQ8_0 ? _mm256_sign_epi8(xq, q) : xq;
      return _mm256_dpbusd_avx_epi32(_mm256_setzero_si256(), u, s);
    }
    __m256i q, u;
  };

  struct Tile {
    explicit Tile(const __m256i* qt) {
      for (int k = 0; k < 8; ++k) q[k] = qt[k];
      if constexpr (D == DType::kQ8_0) {
        __m256i offset_share = _mm256_setzero_si256();
        for (int k = 0; k < 8; ++k) offset_share = _mm256_dpbusd_avx_epi32(offset_share, _mm256_set1_epi8(-128), q[k]);
        start = _mm256_sub_epi32(_mm256_setzero_si256(), offset_share);
      }
    }
    __m256i Dot(const QuantizedActs& a, size_t b) const {
      // Two chains, so the eight dpbusd do not wait on each other's latency one by one.
      __m256i dot[2] = {start, _mm256_setzero_si256()};
      for (int k = 0; k < 8; ++k) {
        if constexpr (D == DType::kQ8_0) {
          dot[k % 2] = _mm256_dpbusd_avx_epi32(dot[k % 2], BroadcastQuad(a.u[b].v, k), q[k]);
        } else {
          dot[k % 2] = _mm256_dpbusd_avx_epi32(dot[k % 2], q[k], BroadcastQuad(a.q[b].v, k));
        }
      }
      return _mm256_add_epi32(dot[0], dot[1]);
    }
    __m256i q[8];
    __m256i start = _mm256_setzero_si256();
  };
};

}  // namespace

void GemvQuantAvxVnni(const MatRef& w, const float* x, int64_t n, float* y) { GemvQuant<VnniDot>(w, x, n, y); }

}  // namespace anser
