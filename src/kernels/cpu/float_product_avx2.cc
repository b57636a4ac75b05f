// f32, f16 and bf16 weights on AVX2: the float product of float_product.h over 8 lanes.
#include "kernels/cpu/avx2.h"
#include "kernels/cpu/float_product.h"
#include "kernels/cpu/simd_avx2.h"

namespace anser {

void FloatProductAvx2(const MatRef& w, const float* x, int64_t n, float* y) {
  WithFloatType(w.dtype,
                [&](auto d) { FloatProduct<Avx2Floats>::Run<decltype(d)::value>(w, x, n, y); });
}

}  // namespace anser
