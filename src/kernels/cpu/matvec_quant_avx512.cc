// Block-quantized products with AVX-512: kTiles16 groups of sixteen rows in 512-bit registers,
// AVX-512 VNNI's dpbusd (its 256-bit form for one token and for the rows left over).
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
template <DType D>
using Avx512Dot256 = VnniDot<Avx2Tiles16, Avx512Vnni, D>;

}  // namespace

// One token in 256-bit registers (no 512-bit instruction in a decode step, see tables.cc);
// integer dots are exact and each lane's float steps are the same, so rows match bit for bit.
void GemvQuantAvx512(const MatRef& w, const float* x, int64_t n, float* y) {
  if (n == 1) {
    GemvQuant<Avx2Tiles16, Avx512Dot256>(w, x, n, y);
  } else {
    GemvQuant<Avx512Tiles, Avx512Dot>(w, x, n, y);
  }
}

}  // namespace anser
