// Matrix–vector products for f32, f16 and bf16 weights. Decode is bound by how fast the weights
// stream from memory, so each row is read exactly once, four rows at a time (x is loaded once
// for the four), with two accumulators per row to hide the FMA latency.
#include <algorithm>

#include "core/thread_pool.h"
#include "kernels/cpu/avx2.h"
#include "kernels/cpu/matvec_split.h"
#include "kernels/cpu/simd_avx2.h"

namespace anser {
namespace {

// y[0..R) = rows[0..R) · x.
template <DType D, int R>
void DotRows(const uint8_t* row0, size_t row_bytes, const float* x, int64_t cols, float* y) {
  constexpr size_t kSize = D == DType::kF32 ? 4 : 2;
  const uint8_t* rows[R];
  for (int r = 0; r < R; ++r) rows[r] = row0 + r * row_bytes;
  __m256 acc0[R], acc1[R];
  for (int r = 0; r < R; ++r) acc0[r] = acc1[r] = _mm256_setzero_ps();
  int64_t c = 0;
  for (; c + 16 <= cols; c += 16) {
    const __m256 x0 = _mm256_loadu_ps(x + c), x1 = _mm256_loadu_ps(x + c + 8);
    for (int r = 0; r < R; ++r) {
      acc0[r] = _mm256_fmadd_ps(Load8<D>(rows[r] + c * kSize), x0, acc0[r]);
      acc1[r] = _mm256_fmadd_ps(Load8<D>(rows[r] + (c + 8) * kSize), x1, acc1[r]);
    }
  }
  if (c + 8 <= cols) {
    const __m256 x0 = _mm256_loadu_ps(x + c);
    for (int r = 0; r < R; ++r) acc0[r] = _mm256_fmadd_ps(Load8<D>(rows[r] + c * kSize), x0, acc0[r]);
    c += 8;
  }
  if (c < cols) {
    const __m256 x0 = LoadPartialF32(x + c, cols - c);
    for (int r = 0; r < R; ++r) {
      acc1[r] = _mm256_fmadd_ps(LoadPartial<D>(rows[r] + c * kSize, cols - c), x0, acc1[r]);
    }
  }
  for (int r = 0; r < R; ++r) acc0[r] = _mm256_add_ps(acc0[r], acc1[r]);
  if constexpr (R == 4) {
    _mm_storeu_ps(y, Hsum4(acc0[0], acc0[1], acc0[2], acc0[3]));
  } else {
    for (int r = 0; r < R; ++r) y[r] = Hsum(acc0[r]);
  }
}

template <DType D>
void MatvecRange(const MatRef& w, const float* x, float* y, int64_t begin, int64_t end) {
  const size_t row_bytes = DTypeRowBytes(D, w.cols);
  const auto* base = static_cast<const uint8_t*>(w.data);
  int64_t r = begin;
  for (; r + 4 <= end; r += 4) DotRows<D, 4>(base + r * row_bytes, row_bytes, x, w.cols, y + r);
  for (; r < end; ++r) DotRows<D, 1>(base + r * row_bytes, row_bytes, x, w.cols, y + r);
}

template <DType D>
void Matvec(const MatRef& w, const float* x, float* y) {
  const int64_t chunk = MatvecRowChunk(w.rows, DTypeRowBytes(D, w.cols), 4);
  KernelPool().ParallelFor(w.rows, chunk, [&](int64_t begin, int64_t end) {
    MatvecRange<D>(w, x, y, begin, end);
  });
}

}  // namespace

void MatvecFloatAvx2(const MatRef& w, const float* x, float* y) {
  switch (w.dtype) {
    case DType::kF32: Matvec<DType::kF32>(w, x, y); break;
    case DType::kF16: Matvec<DType::kF16>(w, x, y); break;
    default: Matvec<DType::kBF16>(w, x, y); break;
  }
}

}  // namespace anser
