// The AVX2+FMA+F16C kernel table and its parts. Only the *_avx2.cc files, compiled with those
// ISA flags, define these; call them only after checking the CPU (AllKernels does).
#pragma once

#include <cstdint>

#include "kernels/kernels.h"

namespace anser {

const CpuKernels& Avx2Kernels();

// Y[n][rows] = X[n][cols]·Wᵀ for any n, threaded. Row t of Y is bitwise the product for X's
// row t alone (the batch invariant of kernels.h).
// f32, f16 and bf16 weights (float_product.h):
void FloatProductAvx2(const MatRef& w, const float* x, int64_t n, float* y);
// Block-quantized weights: x quantized to 8 bits per 32-block, int8 dot products.
void GemvQuantAvx2(const MatRef& w, const float* x, int64_t n, float* y);

void Wkv7Avx2(const Wkv7Args& args);

// Training's float32 products (kernels.h gemm_*; train_gemm.h), shared with the avxvnni table.
void TrainGemmNNAvx2(const float* a, const float* b, int64_t n, int64_t k, int64_t m, float* c,
                     bool accumulate, int threads);
void TrainGemmNTAvx2(const float* a, const float* b, int64_t n, int64_t k, int64_t m, float* c,
                     bool accumulate, int threads);
void TrainGemmTNAccAvx2(const float* a, const float* b, int64_t n, int64_t m, int64_t k, float* c,
                        int threads);

}  // namespace anser
