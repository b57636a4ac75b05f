// The avx2 table. Block-quantized and float weights take different paths for one or a few tokens
// (8-bit dot products against floats); the packed matrix product converts any type to f32.
#include "kernels/cpu/avx2.h"

namespace anser {
namespace {

void Gemv(const MatRef& w, const float* x, int64_t n, float* y) {
  if (DTypeIsBlock(w.dtype)) {
    GemvQuantAvx2(w, x, n, y);
  } else {
    GemvFloatAvx2(w, x, n, y);
  }
}

void Matvec(const MatRef& w, const float* x, float* y) { Gemv(w, x, 1, y); }

void Matmul(const MatRef& w, const float* x, int64_t n, float* y) {
  if (n < kPackedMinTokens) {
    Gemv(w, x, n, y);
  } else {
    MatmulAvx2(w, x, n, y);
  }
}

}  // namespace

const CpuKernels& Avx2Kernels() {
  static const CpuKernels kAvx2{"avx2", Matvec, Matmul, Wkv7Avx2};
  return kAvx2;
}

}  // namespace anser
