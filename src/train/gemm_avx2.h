// AVX2/FMA block kernel of the float32 training products, chosen at run time (the library is
// built for baseline x86-64; this file's functions carry their own target attribute).
#pragma once

#include <cstdint>

namespace anser {

// Whether this CPU runs the AVX2/FMA kernel.
bool TrainAvx2Available();

// C[i][:] += Σ_{p0 ≤ p < p1} A(i, p) · B[p][:] for rows i0 ≤ i < i1, where A(i, p) is
// a[i·row_stride + p·col_stride] (so Aᵀ needs no transposed copy); B and C have m columns
// (row stride m). Call only when TrainAvx2Available().
void GemmRowsAvx2(const float* a, int64_t row_stride, int64_t col_stride, const float* b, int64_t m,
                  float* c, int64_t i0, int64_t i1, int64_t p0, int64_t p1);

}  // namespace anser
