// Block-quantized products with AVX-512: kTiles16 groups of sixteen rows in 512-bit registers,
// AVX-512 VNNI's dpbusd (its 256-bit form for the rows left over).
#include "kernels/cpu/avx512.h"
#include "kernels/cpu/quant_gemv_avx2.h"
#include "kernels/cpu/simd_avx512.h"
#include "kernels/cpu/vnni_dot.h"

namespace anser {
namespace {

struct Avx512Vnni {
  static __m256i Dpbusd(__m256i acc, __m256i u, __m256i s) {
    return _mm256_dpbusd_epi32(acc, u, s);
  }
  static __m512i Dpbusd(__m512i acc, __m512i u, __m512i s) {
    return _mm512_dpbusd_epi32(acc, u, s);
  }
};

template <DType D>
using Avx512Dot = VnniDot<Avx512Tiles, Avx512Vnni, D>;

}  // namespace

void GemvQuantAvx512(const MatRef& w, const float* x, int64_t n, float* y) {
  GemvQuant<Avx512Tiles, Avx512Dot>(w, x, n, y);
}

}  // namespace anser
