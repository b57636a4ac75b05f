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
// f32, f16 and bf16 weights (float_product.h over 16 lanes):
void FloatProductAvx512(const MatRef& w, const float* x, int64_t n, float* y);
// Block-quantized weights (quant_gemv_avx2.h over kTiles16 and 512-bit VNNI):
void GemvQuantAvx512(const MatRef& w, const float* x, int64_t n, float* y);

void Wkv7Avx512(const Wkv7Args& args);

}  // namespace anser
