// Training's float32 products on AVX2 (train_gemm.h): a 6 × 16 register tile, 12 accumulators of
// the 16 registers. The avx2 and avxvnni tables share them.
#include <immintrin.h>

#include "kernels/cpu/avx2.h"
#include "kernels/cpu/train_gemm.h"

namespace anser {
namespace {

struct Avx2Lanes {
  using Reg = __m256;
  static constexpr int kLanes = 8;
  static constexpr int kTileRows = 6;
  static Reg Zero() { return _mm256_setzero_ps(); }
  static Reg Load(const float* p) { return _mm256_loadu_ps(p); }
  static void Store(float* p, Reg v) { _mm256_storeu_ps(p, v); }
  static Reg Add(Reg a, Reg b) { return _mm256_add_ps(a, b); }
  static Reg Fma(Reg a, Reg b, Reg c) { return _mm256_fmadd_ps(a, b, c); }
  static Reg Broadcast(const float* p) { return _mm256_broadcast_ss(p); }
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
