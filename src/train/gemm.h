// Dense row-major matrix products for training, in Real (float or double). Float runs the
// selected kernel table's training products (kernels.h gemm_*: blocked and packed for the
// caches, threaded over output tiles); double, which the gradient tests use, the reference loops
// (kernels/train_products.h).
#pragma once

#include <cstdint>

namespace anser {

// Whether the selected kernel table has bfloat16 training products (kernels.h
// Bf16TrainProducts): the reference always, the avx512 table on CPUs with AVX-512 BF16.
bool Bf16ProductsRun();

// While one lives, this thread's float products round their inputs to bfloat16 and sum in
// float32 (`anser train --precision bf16`); `on` false changes nothing. Needs Bf16ProductsRun().
class ScopedBf16Products {
 public:
  explicit ScopedBf16Products(bool on);
  ~ScopedBf16Products();
  ScopedBf16Products(const ScopedBf16Products&) = delete;
  ScopedBf16Products& operator=(const ScopedBf16Products&) = delete;

 private:
  bool saved_;
};

// C[n][m] = A[n][k] · B[k][m]   (or C += … when accumulate)
template <typename Real>
void GemmNN(const Real* a, const Real* b, int64_t n, int64_t k, int64_t m, Real* c, bool accumulate,
            int threads);

// C[n][m] = A[n][k] · B[m][k]ᵀ   (or C += …): a projection Y = X·Wᵀ with W stored (out, in).
template <typename Real>
void GemmNT(const Real* a, const Real* b, int64_t n, int64_t k, int64_t m, Real* c, bool accumulate,
            int threads);

// C[m][k] += A[n][m]ᵀ · B[n][k]: a weight gradient dW += dYᵀ·X summed over n tokens.
template <typename Real>
void GemmTNAcc(const Real* a, const Real* b, int64_t n, int64_t m, int64_t k, Real* c, int threads);

}  // namespace anser
