// The SIMD tables: avx2, avxvnni (the AVX2 table with VNNI's 8-bit dot product for block-
// quantized weights) and avx512. Each routes block-quantized weights to its 8-bit product and
// float weights to its float product, for any number of tokens. Plain dispatch, compiled
// without ISA flags: the products it names live in their ISA's files.
#include "kernels/cpu/avx2.h"
#include "kernels/cpu/avx512.h"
#include "kernels/cpu/avxvnni.h"
#include "kernels/cpu/tiles.h"

namespace anser {
namespace {

using ProductFn = void (*)(const MatRef& w, const float* x, int64_t n, float* y);

template <ProductFn kFloat, ProductFn kQuant>
struct Table {
  static void Matmul(const MatRef& w, const float* x, int64_t n, float* y) {
    if (DTypeIsBlock(w.dtype)) {
      kQuant(w, x, n, y);
    } else {
      kFloat(w, x, n, y);
    }
  }
  static void Matvec(const MatRef& w, const float* x, float* y) { Matmul(w, x, 1, y); }
};

}  // namespace

const CpuKernels& Avx2Kernels() {
  using T = Table<FloatProductAvx2, GemvQuantAvx2>;
  static const CpuKernels kAvx2{"avx2", T::Matvec, T::Matmul, Wkv7Avx2, PackTiles8};
  return kAvx2;
}

const CpuKernels& AvxVnniKernels() {
  using T = Table<FloatProductAvx2, GemvQuantAvxVnni>;
  static const CpuKernels kAvxVnni{"avxvnni", T::Matvec, T::Matmul, Wkv7Avx2, PackTiles8};
  return kAvxVnni;
}

const CpuKernels& Avx512Kernels() {
  using T = Table<FloatProductAvx512, GemvQuantAvx512>;
  static const CpuKernels kAvx512{"avx512", T::Matvec, T::Matmul, Wkv7Avx512, PackTiles16};
  return kAvx512;
}

}  // namespace anser
