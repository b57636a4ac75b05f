// Matrix–vector products for block-quantized weights, for one token or a few, as GGML's
// q8_0 × q8_0 path: x is quantized once to 8 bits per 32-block, then each weight block meets its x
// block in one 8-bit multiply-add (maddubs) and one scale. Dequantizing to floats instead costs
// about twice the instructions per weight, which at two cores no longer keeps up with the memory.
#include <vector>

#include "core/thread_pool.h"
#include "kernels/cpu/avx2.h"
#include "kernels/cpu/matvec_split.h"
#include "kernels/cpu/quant_avx2.h"
#include "kernels/cpu/simd_avx2.h"

namespace anser {
namespace {

// w_block · x_block summed over a weight row of `blocks` blocks.
template <DType D>
float DotQuantRow(const uint8_t* row, const QuantizedActs& qx, int64_t blocks) {
  const size_t block_bytes = DTypeBlockBytes(D);
  const __m256i ones = _mm256_set1_epi16(1);
  float offsets = 0.0f;
  // One block's contribution: the integer dot, scaled by both block scales.
  const auto step = [&](int64_t b, __m256 acc) {
    const uint8_t* blk = row + static_cast<size_t>(b) * block_bytes;
    const __m256i q = BlockQuants<D>(blk);
    const __m256i xq =
        _mm256_load_si256(reinterpret_cast<const __m256i*>(qx.q[static_cast<size_t>(b)].v));
    __m256i p16;
    if constexpr (D == DType::kQ8_0) {
      // maddubs multiplies unsigned by signed bytes: move the weight's sign onto x.
      p16 = _mm256_maddubs_epi16(_mm256_sign_epi8(q, q), _mm256_sign_epi8(xq, q));
    } else {
      p16 = _mm256_maddubs_epi16(q, xq);  // q ≤ 31, |x| ≤ 127: no saturation
    }
    const __m256 dot = _mm256_cvtepi32_ps(_mm256_madd_epi16(p16, ones));
    const float d = BlockScale(blk);
    if constexpr (D != DType::kQ8_0) {
      offsets += BlockOffset<D>(blk, d) * qx.s[static_cast<size_t>(b)];
    }
    return _mm256_fmadd_ps(dot, _mm256_set1_ps(d * qx.d[static_cast<size_t>(b)]), acc);
  };
  // Two accumulators: consecutive blocks do not wait on each other's FMA.
  __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
  int64_t b = 0;
  for (; b + 2 <= blocks; b += 2) {
    acc0 = step(b, acc0);
    acc1 = step(b + 1, acc1);
  }
  if (b < blocks) acc0 = step(b, acc0);
  return Hsum(_mm256_add_ps(acc0, acc1)) + offsets;
}

// The same for kN tokens at once: each weight block is unpacked once and meets the kN tokens'
// activation blocks, so batched decode does not pay the unpacking once per sequence.
template <DType D, int kN>
void DotQuantRows(const uint8_t* row, const QuantizedActs* qx, int64_t blocks, float* y,
                  int64_t y_stride) {
  const size_t block_bytes = DTypeBlockBytes(D);
  const __m256i ones = _mm256_set1_epi16(1);
  __m256 acc[kN];
  float offsets[kN];
  for (int t = 0; t < kN; ++t) acc[t] = _mm256_setzero_ps(), offsets[t] = 0.0f;
  for (int64_t b = 0; b < blocks; ++b) {
    const uint8_t* blk = row + static_cast<size_t>(b) * block_bytes;
    const __m256i q = BlockQuants<D>(blk);
    const float d = BlockScale(blk);
    // maddubs multiplies unsigned by signed bytes: for q8_0 move the weight's sign onto x.
    const __m256i uq = D == DType::kQ8_0 ? _mm256_sign_epi8(q, q) : q;
    const size_t bi = static_cast<size_t>(b);
    for (int t = 0; t < kN; ++t) {
      const __m256i xq = _mm256_load_si256(reinterpret_cast<const __m256i*>(qx[t].q[bi].v));
      const __m256i p16 = _mm256_maddubs_epi16(uq, D == DType::kQ8_0 ? _mm256_sign_epi8(xq, q) : xq);
      const __m256 dot = _mm256_cvtepi32_ps(_mm256_madd_epi16(p16, ones));
      acc[t] = _mm256_fmadd_ps(dot, _mm256_set1_ps(d * qx[t].d[bi]), acc[t]);
    }
    if constexpr (D != DType::kQ8_0) {
      const float offset = BlockOffset<D>(blk, d);
      for (int t = 0; t < kN; ++t) offsets[t] += offset * qx[t].s[bi];
    }
  }
  for (int t = 0; t < kN; ++t) y[t * y_stride] = Hsum(acc[t]) + offsets[t];
}

// Each row is read from memory once; the tokens are taken in groups of up to four.
template <DType D>
void Gemv(const MatRef& w, const QuantizedActs* qx, int64_t n, float* y) {
  const size_t row_bytes = DTypeRowBytes(D, w.cols);
  const int64_t blocks = w.cols / kQBlock;
  const auto* base = static_cast<const uint8_t*>(w.data);
  KernelPool().ParallelFor(
      w.rows, MatvecRowChunk(w.rows, row_bytes, 1), [&](int64_t begin, int64_t end) {
        for (int64_t r = begin; r < end; ++r) {
          const uint8_t* row = base + r * row_bytes;
          int64_t t = 0;
          for (; t + 4 <= n; t += 4) DotQuantRows<D, 4>(row, qx + t, blocks, y + t * w.rows + r, w.rows);
          for (; t + 2 <= n; t += 2) DotQuantRows<D, 2>(row, qx + t, blocks, y + t * w.rows + r, w.rows);
          if (t < n) y[t * w.rows + r] = DotQuantRow<D>(row, qx[t], blocks);
        }
      });
}

}  // namespace

void GemvQuantAvx2(const MatRef& w, const float* x, int64_t n, float* y) {
  // Per calling thread, so sessions on different threads never share them; grown, then reused.
  thread_local std::vector<QuantizedActs> qx;
  if (qx.size() < static_cast<size_t>(n)) qx.resize(static_cast<size_t>(n));
  for (int64_t t = 0; t < n; ++t)
    QuantizeActsAvx2(x + t * w.cols, w.cols, qx[static_cast<size_t>(t)]);
  switch (w.dtype) {
    case DType::kQ8_0:
      Gemv<DType::kQ8_0>(w, qx.data(), n, y);
      break;
    case DType::kQ4_0:
      Gemv<DType::kQ4_0>(w, qx.data(), n, y);
      break;
    case DType::kQ4_1:
      Gemv<DType::kQ4_1>(w, qx.data(), n, y);
      break;
    default:
      Gemv<DType::kQ5_0>(w, qx.data(), n, y);
      break;
  }
}

}  // namespace anser
