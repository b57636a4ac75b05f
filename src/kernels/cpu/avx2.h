// The AVX2+FMA+F16C kernel table and its parts. Only the *_avx2.cc files, compiled with those
// ISA flags, define these; call them only after checking the CPU (AllKernels does).
#pragma once

#include <cstdint>

#include "kernels/kernels.h"

namespace anser {

const CpuKernels& Avx2Kernels();

// Y[n][rows] = X[n][cols]·Wᵀ, threaded over rows.
// f32, f16 and bf16 weights, for one token or a few (below kPackedMinTokens), reading each
// weight row from memory once:
void GemvFloatAvx2(const MatRef& w, const float* x, int64_t n, float* y);
// Block-quantized weights, any n: x quantized to 8 bits per 32-block, int8 dot products.
void GemvQuantAvx2(const MatRef& w, const float* x, int64_t n, float* y);

// From this many tokens on, float weights take the packed product: it converts the weights once
// (not once per pair of tokens) but pays for packing. At 8 tokens, 768×3072 f16, the
// row-streaming path still takes half the CPU time of the packed one. Block-quantized weights
// always take GemvQuant*: its 8-bit tiles outrun the packed f32 product at any token count
// (3072×768 q4_0, 512 tokens, two threads: 367-400 GFLOP/s against about 220).
inline constexpr int64_t kPackedMinTokens = 9;
// f32, f16 and bf16 weights: packed, cache-blocked, register-tiled matrix product over n tokens.
void MatmulAvx2(const MatRef& w, const float* x, int64_t n, float* y);
void Wkv7Avx2(const Wkv7Args& args);

}  // namespace anser
