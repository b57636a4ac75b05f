// The AVX-512 loop behind MeasureRoofline (defined in roofline_avx512.cc, compiled with AVX-512).
#pragma once

#include <cstdint>

namespace anser {

// `steps` rounds of 12 independent 16-lane FMAs (384 FLOP each); returns a value to keep.
float FmaLoopAvx512(int64_t steps);

}  // namespace anser
