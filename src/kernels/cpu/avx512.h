// The AVX-512 kernel table (F, BW, VL and VNNI, besides AVX2, FMA and F16C) and its parts. Only
// the *_avx512.cc files, compiled with those ISA flags, define these; call them only after
// checking the CPU (AllKernels does).
#pragma once

#include <cstdint>

#include "kernels/kernels.h"

namespace anser {

const CpuKernels& Avx512Kernels();

// Y[n][rows] = X[n][cols]·Wᵀ for any n, threaded; row t of Y is bitwise the product for X's row
// t alone (the batch invariant of kernels.h).
// f32, f16 and bf16 weights, n ≥ 2: two tokens per register, every output summed as
// FloatProductAvx2 sums it (float_product.h with Avx512Pairs):
void FloatProductAvx512(const MatRef& w, const float* x, int64_t n, float* y);
// Block-quantized weights, kTiles16 (quant_gemv_avx2.h with AVX-512 VNNI): n ≥ 2 in 512-bit
// registers, one token in 256-bit ones, each row and token summed the same way.
void GemvQuantAvx512(const MatRef& w, const float* x, int64_t n, float* y);

// Training's float32 products (kernels.h gemm_*; train_gemm.h) in 512-bit registers.
void TrainGemmNNAvx512(const float* a, const float* b, int64_t n, int64_t k, int64_t m, float* c,
                       bool accumulate, int threads);
void TrainGemmNTAvx512(const float* a, const float* b, int64_t n, int64_t k, int64_t m, float* c,
                       bool accumulate, int threads);
void TrainGemmTNAccAvx512(const float* a, const float* b, int64_t n, int64_t m, int64_t k, float* c,
                          int threads);

// The bfloat16 products (kernels.h Bf16TrainProducts) with AVX-512 BF16's vdpbf16ps: only for
// CPUs that have it (CpuFeatures::avx512bf16).
void TrainGemmNNAvx512Bf16(const float* a, const float* b, int64_t n, int64_t k, int64_t m,
                           float* c, bool accumulate, int threads);
void TrainGemmNTAvx512Bf16(const float* a, const float* b, int64_t n, int64_t k, int64_t m,
                           float* c, bool accumulate, int threads);
void TrainGemmTNAccAvx512Bf16(const float* a, const float* b, int64_t n, int64_t m, int64_t k,
                              float* c, int threads);

}  // namespace anser
