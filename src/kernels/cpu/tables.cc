// The SIMD tables: avx2, avxvnni (the AVX2 table with VNNI's 8-bit dot product for block-
// quantized weights) and avx512. Each routes block-quantized weights to its 8-bit product and
// float weights to its float product, for any number of tokens. Plain dispatch, compiled
// without ISA flags: the products it names live in their ISA's files.
#include "core/cpu_features.h"
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

// The avx512 table's float product. One token (decode) runs no 512-bit instruction: Zen 5
// powers its 512-bit units down within a millisecond of disuse and runs them slower while they
// power up, which in a decode step (many short products between scalar work) cost more than the
// wider registers gain (0.4B bf16 decode at 0.73× the avx2 table's). Both paths sum each output
// alike (Avx512Pairs), so the table stays batch-invariant. For the same reason the table's WKV
// recurrence is the AVX2 one, which is as fast over a prompt as a 512-bit one was.
void FloatProductAvx512Table(const MatRef& w, const float* x, int64_t n, float* y) {
  if (n == 1) {
    FloatProductAvx2(w, x, n, y);
  } else {
    FloatProductAvx512(w, x, n, y);
  }
}

}  // namespace

const CpuKernels& Avx2Kernels() {
  using T = Table<FloatProductAvx2, GemvQuantAvx2>;
  static const CpuKernels kAvx2{"avx2",          T::Matvec,       T::Matmul,
                                Wkv7Avx2,        PackTiles8,      TrainGemmNNAvx2,
                                TrainGemmNTAvx2, TrainGemmTNAccAvx2, nullptr};
  return kAvx2;
}

const CpuKernels& AvxVnniKernels() {
  using T = Table<FloatProductAvx2, GemvQuantAvxVnni>;
  static const CpuKernels kAvxVnni{"avxvnni",       T::Matvec,         T::Matmul,
                                   Wkv7Avx2,        PackTiles8,        TrainGemmNNAvx2,
                                   TrainGemmNTAvx2, TrainGemmTNAccAvx2, nullptr};
  return kAvxVnni;
}

const CpuKernels& Avx512Kernels() {
  using T = Table<FloatProductAvx512Table, GemvQuantAvx512>;
  static const Bf16TrainProducts kBf16{TrainGemmNNAvx512Bf16, TrainGemmNTAvx512Bf16,
                                       TrainGemmTNAccAvx512Bf16};
  static const CpuKernels kAvx512{"avx512",          T::Matvec,           T::Matmul,
                                  Wkv7Avx2,          PackTiles16,         TrainGemmNNAvx512,
                                  TrainGemmNTAvx512, TrainGemmTNAccAvx512,
                                  GetCpuFeatures().avx512bf16 ? &kBf16 : nullptr};
  return kAvx512;
}

}  // namespace anser
