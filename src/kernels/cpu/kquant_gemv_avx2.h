// The K-quant products (q4_K, q6_K) for any number of tokens, written once over a table's 8-bit
// dot product (Dot<D>::Block of quant_gemv_avx2.h: AVX2's maddubs or VNNI's dpbusd). The
// super-blocks of 256 are read as stored, row by row (no tile layout): each 32-element piece of
// a super-block is unpacked into 32 quants in element order and meets the matching block of the
// activations, which are quantized to 8 bits per 32-block as for the other block types
// (QuantizedActs). The integer dots are exact; the float steps per piece are
//   q4_K: acc += float(Σq·xq)·(d·sc·x.d), mins += (dmin·m)·x.s;   y = Hsum(acc) − mins
//   q6_K: acc += float(Σ_16 (q − 32)·xq·scale, lane-wise)·(d·x.d);   y = Hsum(acc)
// q4_K's quants are unsigned (Dot<kQ4_0>'s block); q6_K's q − 32 are signed (Dot<kQ8_0>'s), and
// the 8 int32 lanes of its dot split 4 + 4 between the piece's two 16-element scale groups.
//
// Batch invariance (kernels.h): every token's output for a row is summed in this order whether
// it is computed alone or with up to three others (DotKRows<…, kN>), on any thread.
//
// In an unnamed namespace, as every header of ISA-compiled helpers here.
#pragma once

#include <immintrin.h>

#include <algorithm>

#include "core/thread_pool.h"
#include "kernels/cpu/matvec_split.h"
#include "kernels/cpu/quant_avx2.h"
#include "kernels/cpu/simd_avx2.h"
#include "kernels/kernels.h"

namespace anser {
namespace {

inline constexpr int kPiecesPerK = kKBlock / kQBlock;  // 32-element pieces of a super-block

// Prefetches the stream ahead of one super-block of `bytes` bytes, once per 64-byte line.
inline void PrefetchAhead(const uint8_t* blk, size_t bytes) {
  for (size_t off = 0; off < bytes; off += 64)
    _mm_prefetch(reinterpret_cast<const char*>(blk + kStreamPrefetchBytes + off), _MM_HINT_T0);
}

// Row · x_t of kN tokens for a q4_K row of `supers` super-blocks; y[t·y_stride].
template <template <DType> class Dot, int kN>
void DotQ4KRows(const uint8_t* row, const QuantizedActs* qx, int64_t supers, float* y,
                int64_t y_stride) {
  constexpr size_t kBytes = 2 + 2 + 12 + 128;
  using Block = typename Dot<DType::kQ4_0>::Block;
  const __m256i low = _mm256_set1_epi8(0x0f);
  __m256 acc[kN];
  float mins[kN];
  for (int t = 0; t < kN; ++t) acc[t] = _mm256_setzero_ps(), mins[t] = 0.0f;
  for (int64_t s = 0; s < supers; ++s) {
    const uint8_t* blk = row + static_cast<size_t>(s) * kBytes;
    PrefetchAhead(blk, kBytes);
    const float d = _cvtsh_ss(LoadU16(blk)), dmin = _cvtsh_ss(LoadU16(blk + kQ4_KDmin));
    for (int p = 0; p < kPiecesPerK / 2; ++p) {
      // One 32-byte load holds two pieces: low nibbles piece 2p, high nibbles piece 2p + 1.
      const __m256i bytes =
          _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk + kQ4_KQs + 32 * p));
      const Block pieces[2] = {Block(_mm256_and_si256(bytes, low)),
                               Block(_mm256_and_si256(_mm256_srli_epi16(bytes, 4), low))};
      for (int h = 0; h < 2; ++h) {
        const int j = 2 * p + h;
        int sc = 0, m = 0;
        KScaleMin(blk + kQ4_KScales, j, &sc, &m);
        const float dsc = d * static_cast<float>(sc), dm = dmin * static_cast<float>(m);
        const size_t xb = static_cast<size_t>(s * kPiecesPerK + j);
        for (int t = 0; t < kN; ++t) {
          const QuantizedActs::Block& x = qx[t].blocks[xb];
          const __m256 dot = _mm256_cvtepi32_ps(pieces[h].Dot(x));
          acc[t] = _mm256_fmadd_ps(dot, _mm256_set1_ps(dsc * x.d), acc[t]);
          mins[t] += dm * x.s;
        }
      }
    }
  }
  for (int t = 0; t < kN; ++t) y[t * y_stride] = Hsum(acc[t]) - mins[t];
}

// Row · x_t of kN tokens for a q6_K row of `supers` super-blocks; y[t·y_stride].
template <template <DType> class Dot, int kN>
void DotQ6KRows(const uint8_t* row, const QuantizedActs* qx, int64_t supers, float* y,
                int64_t y_stride) {
  constexpr size_t kBytes = 128 + 64 + 16 + 2;
  using Block = typename Dot<DType::kQ8_0>::Block;
  const __m256i low = _mm256_set1_epi8(0x0f), high = _mm256_set1_epi8(0x30);
  const __m256i offset = _mm256_set1_epi8(32);
  __m256 acc[kN];
  for (int t = 0; t < kN; ++t) acc[t] = _mm256_setzero_ps();
  for (int64_t s = 0; s < supers; ++s) {
    const uint8_t* blk = row + static_cast<size_t>(s) * kBytes;
    PrefetchAhead(blk, kBytes);
    const float d = _cvtsh_ss(LoadU16(blk + kQ6_KD));
    for (int half = 0; half < 2; ++half) {
      const uint8_t* ql = blk + kQ6_KQl + 64 * half;
      const __m256i ql0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(ql));
      const __m256i ql1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(ql + 32));
      const __m256i qh =
          _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk + kQ6_KQh + 32 * half));
      // The scales of this half's eight 16-element groups, one per int32 lane.
      const __m256i scales = _mm256_cvtepi8_epi32(
          _mm_loadl_epi64(reinterpret_cast<const __m128i*>(blk + kQ6_KScales + 8 * half)));
      // Bits 0..3 of piece k: low nibbles of ql0 (k 0), ql1 (k 1), high nibbles (k 2, 3);
      // bits 4, 5: bits 2k, 2k + 1 of qh, shifted into place (16-bit shifts of at most 4 bring
      // no bit of the other byte into bits 4, 5).
      const __m256i nibbles[4] = {
          _mm256_and_si256(ql0, low), _mm256_and_si256(ql1, low),
          _mm256_and_si256(_mm256_srli_epi16(ql0, 4), low),
          _mm256_and_si256(_mm256_srli_epi16(ql1, 4), low)};
      const __m256i tops[4] = {_mm256_and_si256(_mm256_slli_epi16(qh, 4), high),
                               _mm256_and_si256(_mm256_slli_epi16(qh, 2), high),
                               _mm256_and_si256(qh, high),
                               _mm256_and_si256(_mm256_srli_epi16(qh, 2), high)};
      for (int k = 0; k < 4; ++k) {
        const Block piece(_mm256_sub_epi8(_mm256_or_si256(nibbles[k], tops[k]), offset));
        // Lanes 0..3 are elements 0..15 (group 2k), lanes 4..7 elements 16..31 (group 2k + 1).
        const __m256i scale = _mm256_permutevar8x32_epi32(
            scales, _mm256_setr_epi32(2 * k, 2 * k, 2 * k, 2 * k, 2 * k + 1, 2 * k + 1, 2 * k + 1,
                                      2 * k + 1));
        const size_t xb = static_cast<size_t>(s * kPiecesPerK + 4 * half + k);
        for (int t = 0; t < kN; ++t) {
          const QuantizedActs::Block& x = qx[t].blocks[xb];
          const __m256 dot = _mm256_cvtepi32_ps(_mm256_mullo_epi32(piece.Dot(x), scale));
          acc[t] = _mm256_fmadd_ps(dot, _mm256_set1_ps(d * x.d), acc[t]);
        }
      }
    }
  }
  for (int t = 0; t < kN; ++t) y[t * y_stride] = Hsum(acc[t]);
}

template <template <DType> class Dot, DType D, int kN>
void DotKRows(const uint8_t* row, const QuantizedActs* qx, int64_t supers, float* y,
              int64_t y_stride) {
  if constexpr (D == DType::kQ4_K) {
    DotQ4KRows<Dot, kN>(row, qx, supers, y, y_stride);
  } else {
    DotQ6KRows<Dot, kN>(row, qx, supers, y, y_stride);
  }
}

// Y[n][rows] = X[n][cols]·Wᵀ for a K-quant W (D) in the stored layout. Threads take chunks of
// rows; within a chunk the tokens go four at a time over all its rows, so the four tokens'
// activations stay in L1 while the chunk's rows stream once per four tokens.
template <template <DType> class Dot, DType D>
void GemvKBlocks(const MatRef& w, const QuantizedActs* qx, int64_t n, float* y) {
  ANSER_CHECK(w.layout == MatLayout::kRows, "K-quant matrix in a tile layout");
  const size_t row_bytes = DTypeRowBytes(D, w.cols);
  const int64_t supers = w.cols / kKBlock;
  const auto* base = static_cast<const uint8_t*>(w.data);
  KernelPool().ParallelFor(
      w.rows, MatvecRowChunk(w.rows, row_bytes, 1), [&](int64_t begin, int64_t end) {
        int64_t t = 0;
        for (; t + 4 <= n; t += 4) {
          for (int64_t r = begin; r < end; ++r)
            DotKRows<Dot, D, 4>(base + r * row_bytes, qx + t, supers, y + t * w.rows + r, w.rows);
        }
        for (; t < n; ++t) {
          for (int64_t r = begin; r < end; ++r)
            DotKRows<Dot, D, 1>(base + r * row_bytes, qx + t, supers, y + t * w.rows + r, w.rows);
        }
      });
}

}  // namespace
}  // namespace anser
