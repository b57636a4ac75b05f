// Dense row-major matrix products for training, in Real (float or double). Float runs the
// selected kernel table's training products (kernels.h gemm_*: blocked and packed for the
// caches, threaded over output tiles); double, which the gradient tests use, the reference loops
// (kernels/train_products.h).
#pragma once

#include <cstdint>

namespace anser {

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
