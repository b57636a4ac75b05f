// The avx2 and avxvnni tables. They differ only in the 8-bit dot product of the block-quantized
// path; float weights take the same product for any number of tokens.
#include "kernels/cpu/avx2.h"
#include "kernels/cpu/avxvnni.h"
#include "kernels/cpu/tiles8.h"

namespace anser {
namespace {

using GemvFn = void (*)(const MatRef& w, const float* x, int64_t n, float* y);

template <GemvFn kGemvQuant>
struct Table {
  static void Matmul(const MatRef& w, const float* x, int64_t n, float* y) {
    if (DTypeIsBlock(w.dtype)) {
      kGemvQuant(w, x, n, y);
    } else {
      FloatProductAvx2(w, x, n, y);
    }
  }
  static void Matvec(const MatRef& w, const float* x, float* y) { Matmul(w, x, 1, y); }
};

}  // namespace
const CpuKernels& Avx2Kernels() {
  using T = Table<GemvQuantAvx2>;
  static const CpuKernels kAvx2{"avx2", T::Matvec, T::Matmul, Wkv7Avx2, PackTiles8};
  return kAvx2;
}

const CpuKernels& AvxVnniKernels() {
  using T = Table<GemvQuantAvxVnni>;
  static const CpuKernels kAvxVnni{"avxvnni", T::Matvec, T::Matmul, Wkv7Avx2, PackTiles8};
  return kAvxVnni;
}

}  // namespace anser
