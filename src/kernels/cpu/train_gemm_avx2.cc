// Training's float32 products on AVX2 (train_gemm.h): a 6 × 16 register tile, 12 accumulators of
// the 16 registers. The avx2 and avxvnni tables share them.
#include <immintrin.h>

#include "kernels/cpu/avx2.h"
#include "kernels/cpu/train_gemm.h"

namespace anser {
namespace {

struct Avx2Lanes {
  using Packed = float;
  using Acc = __m256;
  using In = __m256;
  static constexpr int kPackDepth = 1;
  static constexpr int kLanes = 8;
  static constexpr int kTileRows = 6;
  static Packed Pack(float x, float) { return x; }
  static Acc Zero() { return _mm256_setzero_ps(); }
  static Acc LoadAcc(const float* p) { return _mm256_loadu_ps(p); }
  static void StoreAcc(float* p, Acc v) { _mm256_storeu_ps(p, v); }
  static Acc AddAcc(Acc a, Acc b) { return _mm256_add_ps(a, b); }
  static In LoadIn(const float* p) { return _mm256_loadu_ps(p); }
  static In BroadcastIn(const float* p) { return _mm256_broadcast_ss(p); }
  static Acc Madd(In a, In b, Acc c) { return _mm256_fmadd_ps(a, b, c); }
};

using Products = TrainGemm<Avx2Lanes>;

}  // namespace

void TrainGemmNNAvx2(const float* a, const float* b, int64_t n, int64_t k, int64_t m, float* c,
                     bool accumulate, int threads) {
  Products::NN(a, b, n, k, m, c, accumulate, threads);
}

void TrainGemmNTAvx2(const float* a, const float* b, int64_t n, int64_t k, int64_t m, float* c,
                     bool accumulate, int threads) {
  Products::NT(a, b, n, k, m, c, accumulate, threads);
}

void TrainGemmTNAccAvx2(const float* a, const float* b, int64_t n, int64_t m, int64_t k, float* c,
                        int threads) {
  Products::TNAcc(a, b, n, m, k, c, threads);
}

}  // namespace anser
