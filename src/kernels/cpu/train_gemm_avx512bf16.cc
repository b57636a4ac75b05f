// Training's bfloat16 products on AVX-512 BF16 (train_gemm.h with pairs of bfloat16): the 12 × 32
// register tile of the float32 products, each multiply-add a vdpbf16ps that takes two k steps at
// once, and packed panels half the size.
#include <immintrin.h>

#include <cstring>

#include "core/dtype.h"
#include "kernels/cpu/avx512.h"
#include "kernels/cpu/train_gemm.h"

namespace anser {
namespace {

struct Avx512Bf16Lanes {
  using Packed = uint32_t;  // two k steps: the first in the low half
  using Acc = __m512;
  using In = __m512bh;
  static constexpr int kPackDepth = 2;
  static constexpr int kLanes = 16;
  static constexpr int kTileRows = 12;
  // x and y already hold bfloat16 values (Rounded below): their high halves, side by side.
  static Packed Pack(float x, float y) {
    uint32_t lo, hi;
    std::memcpy(&lo, &x, 4);
    std::memcpy(&hi, &y, 4);
    return lo >> 16 | (hi & 0xFFFF0000u);
  }
  static Acc Zero() { return _mm512_setzero_ps(); }
  static Acc LoadAcc(const float* p) { return _mm512_loadu_ps(p); }
  static void StoreAcc(float* p, Acc v) { _mm512_storeu_ps(p, v); }
  static Acc AddAcc(Acc a, Acc b) { return _mm512_add_ps(a, b); }
  static In LoadIn(const Packed* p) { return (__m512bh)_mm512_loadu_si512(p); }
  static In BroadcastIn(const Packed* p) {
    int32_t pair;
    std::memcpy(&pair, p, 4);
    return (__m512bh)_mm512_set1_epi32(pair);
  }
  static Acc Madd(In a, In b, Acc c) { return _mm512_dpbf16_ps(c, a, b); }
};

using Products = TrainGemm<Avx512Bf16Lanes>;

// A copy of x[n] with every value rounded to bfloat16 (nearest even, vcvtneps2bf16), kept as
// float: rounded once up front, the inputs are packed by moving halves, not rounded again for
// every block that packs them. Owned by the caller (delete[]).
float* Rounded(const float* x, int64_t n) {
  float* out = new float[n > 0 ? n : 1];
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m256i half = (__m256i)_mm512_cvtneps_pbh(_mm512_loadu_ps(x + i));
    _mm512_storeu_si512(out + i, _mm512_slli_epi32(_mm512_cvtepu16_epi32(half), 16));
  }
  for (; i < n; ++i) out[i] = Bf16ToF32(F32ToBf16(x[i]));
  return out;
}

// Calls product(ra, rb) with Rounded copies of a[a_size] and b[b_size].
template <typename F>
void WithRounded(const float* a, int64_t a_size, const float* b, int64_t b_size, const F& product) {
  float *ra = Rounded(a, a_size), *rb = Rounded(b, b_size);
  product(ra, rb);
  delete[] ra;
  delete[] rb;
}

}  // namespace

void TrainGemmNNAvx512Bf16(const float* a, const float* b, int64_t n, int64_t k, int64_t m,
                           float* c, bool accumulate, int threads) {
  WithRounded(a, n * k, b, k * m, [&](const float* ra, const float* rb) {
    Products::NN(ra, rb, n, k, m, c, accumulate, threads);
  });
}

void TrainGemmNTAvx512Bf16(const float* a, const float* b, int64_t n, int64_t k, int64_t m,
                           float* c, bool accumulate, int threads) {
  WithRounded(a, n * k, b, m * k, [&](const float* ra, const float* rb) {
    Products::NT(ra, rb, n, k, m, c, accumulate, threads);
  });
}

void TrainGemmTNAccAvx512Bf16(const float* a, const float* b, int64_t n, int64_t m, int64_t k,
                              float* c, int threads) {
  WithRounded(a, n * m, b, n * k, [&](const float* ra, const float* rb) {
    Products::TNAcc(ra, rb, n, m, k, c, threads);
  });
}

}  // namespace anser
