// Block-quantized products with AVX-VNNI (the VEX form of dpbusd, on 256-bit registers).
#include "kernels/cpu/avxvnni.h"
#include "kernels/cpu/quant_gemv_avx2.h"
#include "kernels/cpu/vnni_dot.h"

namespace anser {
namespace {

struct AvxVnni {
  static __m256i Dpbusd(__m256i acc, __m256i u, __m256i s) {
    return _mm256_dpbusd_avx_epi32(acc, u, s);
  }
};

template <DType D>
using AvxVnniDot = VnniDot<Avx2Tiles, AvxVnni, D>;

}  // namespace

void GemvQuantAvxVnni(const MatRef& w, const float* x, int64_t n, float* y) {
  GemvQuant<Avx2Tiles, AvxVnniDot>(w, x, n, y);
}

}  // namespace anser
