// Training's float32 products on AVX-512 (train_gemm.h): a 12 × 32 register tile, 24
// accumulators of the 32 registers, the broadcasts folded into the FMAs' memory operands.
#include <immintrin.h>

#include "kernels/cpu/avx512.h"
#include "kernels/cpu/train_gemm.h"

namespace anser {
namespace {

struct Avx512Lanes {
  using Packed = float;
  using Acc = __m512;
  using In = __m512;
  static constexpr int kPackDepth = 1;
  static constexpr int kLanes = 16;
  static constexpr int kTileRows = 12;
  static Packed Pack(float x, float) { return x; }
  static Acc Zero() { return _mm512_setzero_ps(); }
  static Acc LoadAcc(const float* p) { return _mm512_loadu_ps(p); }
  static void StoreAcc(float* p, Acc v) { _mm512_storeu_ps(p, v); }
  static Acc AddAcc(Acc a, Acc b) { return _mm512_add_ps(a, b); }
  static In LoadIn(const float* p) { return _mm512_loadu_ps(p); }
  static In BroadcastIn(const float* p) { return _mm512_set1_ps(*p); }
  static Acc Madd(In a, In b, Acc c) { return _mm512_fmadd_ps(a, b, c); }
};

using Products = TrainGemm<Avx512Lanes>;

}  // namespace

void TrainGemmNNAvx512(const float* a, const float* b, int64_t n, int64_t k, int64_t m, float* c,
                       bool accumulate, int threads) {
  Products::NN(a, b, n, k, m, c, accumulate, threads);
}

void TrainGemmNTAvx512(const float* a, const float* b, int64_t n, int64_t k, int64_t m, float* c,
                       bool accumulate, int threads) {
  Products::NT(a, b, n, k, m, c, accumulate, threads);
}

void TrainGemmTNAccAvx512(const float* a, const float* b, int64_t n, int64_t m, int64_t k, float* c,
                          int threads) {
  Products::TNAcc(a, b, n, m, k, c, threads);
}

}  // namespace anser
