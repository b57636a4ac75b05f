// This machine's limits, measured: how fast all kernel threads together read memory, and how
// many floating-point operations per second their FMA units can issue. `anser bench
// --roofline` states its results as fractions of these.
#pragma once

#include <cstdint>

namespace anser {

struct Roofline {
  double read_gb_s = 0.0;  // sustained read bandwidth from a buffer far larger than the caches
  // 2 FLOP per lane per FMA: 16 lanes on AVX-512, 8 on AVX2, else scalar.
  double peak_gflop_s = 0.0;
  const char* isa = "scalar";  // the instructions the peak was measured with
};

// Uses as many threads as the kernels (SetKernelThreads); takes about a second.
Roofline MeasureRoofline();

}  // namespace anser
