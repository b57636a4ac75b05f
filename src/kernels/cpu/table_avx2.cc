// The avx2 table. Block-quantized and float weights take different matrix–vector paths (8-bit
// dot products against floats); the matrix product converts any type while packing.
#include "kernels/cpu/avx2.h"

namespace anser {
namespace {

void Matvec(const MatRef& w, const float* x, float* y) {
  if (DTypeIsBlock(w.dtype)) {
    MatvecQuantAvx2(w, x, y);
  } else {
    MatvecFloatAvx2(w, x, y);
  }
}

}  // namespace

const CpuKernels& Avx2Kernels() {
  static const CpuKernels kAvx2{"avx2", Matvec, MatmulAvx2, Wkv7Avx2};
  return kAvx2;
}

}  // namespace anser
