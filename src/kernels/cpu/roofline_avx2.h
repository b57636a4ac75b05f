// The AVX2 loops behind MeasureRoofline (defined in roofline_avx2.cc, compiled with AVX2+FMA).
#pragma once

#include <cstdint>

namespace anser {

// Sums n floats (n a multiple of 32) with 256-bit loads; returns the sum so it is not elided.
float SumAvx2(const float* x, int64_t n);
// `steps` rounds of 12 independent 8-lane FMAs (192 FLOP each); returns a value to keep.
float FmaLoopAvx2(int64_t steps);

}  // namespace anser
