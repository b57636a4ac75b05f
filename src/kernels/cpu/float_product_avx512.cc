// f32, f16 and bf16 weights on AVX-512: the float product of float_product.h, two tokens per
// register (Avx512Pairs), summing every output as the AVX2 table does.
#include "kernels/cpu/avx512.h"
#include "kernels/cpu/float_product.h"
#include "kernels/cpu/simd_avx2.h"
#include "kernels/cpu/simd_avx512.h"

namespace anser {

void FloatProductAvx512(const MatRef& w, const float* x, int64_t n, float* y) {
  WithFloatType(w.dtype,
                [&](auto d) { FloatProduct<Avx512Pairs>::Run<decltype(d)::value>(w, x, n, y); });
}

}  // namespace anser
