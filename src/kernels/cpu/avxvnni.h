// The AVX2 kernel table with AVX-VNNI's 8-bit dot product for block-quantized weights. Only the
// *_avxvnni.cc files, compiled with those ISA flags, define these; call them only after
// checking the CPU (AllKernels does).
#pragma once

#include <cstdint>

#include "kernels/kernels.h"

namespace anser {

const CpuKernels& AvxVnniKernels();

// Y[n][rows] = X[n][cols]·Wᵀ for block-quantized W and any n (as GemvQuantAvx2).
void GemvQuantAvxVnni(const MatRef& w, const float* x, int64_t n, float* y);

}  // namespace anser
