#include "train/gemm.h"

#include <type_traits>

#include "kernels/kernels.h"
#include "kernels/train_products.h"

namespace anser {
namespace {

thread_local bool bf16_products = false;

}  // namespace

bool Bf16ProductsRun() { return SelectKernels().bf16_products != nullptr; }

ScopedBf16Products::ScopedBf16Products(bool on) : saved_(bf16_products) {
  if (on) bf16_products = true;
}

ScopedBf16Products::~ScopedBf16Products() { bf16_products = saved_; }

template <typename Real>
void GemmNN(const Real* a, const Real* b, int64_t n, int64_t k, int64_t m, Real* c, bool accumulate,
            int threads) {
  if constexpr (std::is_same_v<Real, float>) {
    const CpuKernels& table = SelectKernels();
    if (bf16_products) {
      table.bf16_products->gemm_nn(a, b, n, k, m, c, accumulate, threads);
    } else {
      table.gemm_nn(a, b, n, k, m, c, accumulate, threads);
    }
  } else {
    RefTrainProducts<Real>::NN(a, b, n, k, m, c, accumulate, threads);
  }
}

template <typename Real>
void GemmNT(const Real* a, const Real* b, int64_t n, int64_t k, int64_t m, Real* c, bool accumulate,
            int threads) {
  if constexpr (std::is_same_v<Real, float>) {
    const CpuKernels& table = SelectKernels();
    if (bf16_products) {
      table.bf16_products->gemm_nt(a, b, n, k, m, c, accumulate, threads);
    } else {
      table.gemm_nt(a, b, n, k, m, c, accumulate, threads);
    }
  } else {
    RefTrainProducts<Real>::NT(a, b, n, k, m, c, accumulate, threads);
  }
}

template <typename Real>
void GemmTNAcc(const Real* a, const Real* b, int64_t n, int64_t m, int64_t k, Real* c,
               int threads) {
  if constexpr (std::is_same_v<Real, float>) {
    const CpuKernels& table = SelectKernels();
    if (bf16_products) {
      table.bf16_products->gemm_tn_acc(a, b, n, m, k, c, threads);
    } else {
      table.gemm_tn_acc(a, b, n, m, k, c, threads);
    }
  } else {
    RefTrainProducts<Real>::TNAcc(a, b, n, m, k, c, threads);
  }
}

template void GemmNN<float>(const float*, const float*, int64_t, int64_t, int64_t, float*, bool,
                            int);
template void GemmNN<double>(const double*, const double*, int64_t, int64_t, int64_t, double*, bool,
                             int);
template void GemmNT<float>(const float*, const float*, int64_t, int64_t, int64_t, float*, bool,
                            int);
template void GemmNT<double>(const double*, const double*, int64_t, int64_t, int64_t, double*, bool,
                             int);
template void GemmTNAcc<float>(const float*, const float*, int64_t, int64_t, int64_t, float*, int);
template void GemmTNAcc<double>(const double*, const double*, int64_t, int64_t, int64_t, double*,
                                int);

}  // namespace anser
