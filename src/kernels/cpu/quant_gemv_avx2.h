// The block-quantized product for any number of tokens (decode, batches, prompts), written once
// over the 8-bit dot product it is built on: `Dot<D>` (AVX2's maddubs, or AVX-VNNI's dpbusd) says how
// one weight block meets one activation block; everything else (unpacking, scales, offsets, threads) is here.
// x is quantized once to 8 bits per 32-block, as GGML's q8_0 × q8_0 path does: dequantizing the
// weights to floats instead costs about twice the instructions per weight, which at two cores no
// longer keeps up with the memory.
//
// Everything here sits in an unnamed namespace, so each ISA's translation unit keeps its own
// copy and the linker never swaps a VNNI-built kernel into the AVX2 table. (The small helpers it
// calls from simd_avx2.h and quant_avx2.h are plain AVX2 intrinsics in either unit.)
#pragma once

#include <immintrin.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "core/thread_pool.h"
#include "kernels/cpu/matvec_split.h"
#include "kernels/cpu/quant_avx2.h"
#include "kernels/cpu/simd_avx2.h"
#include "kernels/cpu/tiles8.h"
#include "kernels/kernels.h"

namespace anser {
namespace {

// What Dot<D> provides, for weights of type D (quants as BlockQuants<D> gives them):
//   Dot<D>::Block(q)       one weight block, prepared once for every token;
//     .Dot(x)              eight int32 partial sums of the block's dot with activation block x
//                          (32 int8, 32-byte aligned); their sum is the dot;
//   Dot<D>::Tile(qt)       one block column of eight rows (kTiles8): qt[k] lane j = elements
//                          4k..4k+3 of row j, as UnpackTile gives them;
//     .Dot(a, b)           lane j = row j's block · block b of the token's activations a.

// Activation bytes 4k..4k+3 of a block in every 32-bit lane.
inline __m256i BroadcastQuad(const int8_t* x, int k) {
  int32_t quad;
  std::memcpy(&quad, x + 4 * k, sizeof(quad));
  return _mm256_set1_epi32(quad);
}

// w_row · x summed over a row of `blocks` blocks, for one token. One accumulator in block order,
// then Hsum: the arithmetic of DotQuantRows for each of its tokens (the batch invariant).
template <template <DType> class Dot, DType D>
float DotQuantRow(const uint8_t* row, const QuantizedActs& qx, int64_t blocks) {
  const size_t block_bytes = DTypeBlockBytes(D);
  float offsets = 0.0f;
  __m256 acc = _mm256_setzero_ps();
  for (int64_t b = 0; b < blocks; ++b) {
    const uint8_t* blk = row + static_cast<size_t>(b) * block_bytes;
    // Once per 64 bytes of the row (two blocks at least): prefetch the stream ahead.
    if (b % 2 == 0) _mm_prefetch(reinterpret_cast<const char*>(blk + kStreamPrefetchBytes), _MM_HINT_T0);
    const size_t bi = static_cast<size_t>(b);
    const __m256 dot = _mm256_cvtepi32_ps(typename Dot<D>::Block(BlockQuants<D>(blk)).Dot(qx.q[bi].v));
    const float d = BlockScale(blk);
    if constexpr (D != DType::kQ8_0) offsets += BlockOffset<D>(blk, d) * qx.s[bi];
    acc = _mm256_fmadd_ps(dot, _mm256_set1_ps(d * qx.d[bi]), acc);
  }
  return Hsum(acc) + offsets;
}

// The same for kN tokens at once, each token's sum as DotQuantRow's: each weight block is
// unpacked once and meets the kN tokens' activation blocks (the rows a tile of eight leaves over).
template <template <DType> class Dot, DType D, int kN>
void DotQuantRows(const uint8_t* row, const QuantizedActs* qx, int64_t blocks, float* y,
                  int64_t y_stride) {
  const size_t block_bytes = DTypeBlockBytes(D);
  __m256 acc[kN];
  float offsets[kN];
  for (int t = 0; t < kN; ++t) acc[t] = _mm256_setzero_ps(), offsets[t] = 0.0f;
  for (int64_t b = 0; b < blocks; ++b) {
    const uint8_t* blk = row + static_cast<size_t>(b) * block_bytes;
    const typename Dot<D>::Block block(BlockQuants<D>(blk));
    const float d = BlockScale(blk);
    const size_t bi = static_cast<size_t>(b);
    for (int t = 0; t < kN; ++t) {
      const __m256 dot = _mm256_cvtepi32_ps(block.Dot(qx[t].q[bi].v));
      acc[t] = _mm256_fmadd_ps(dot, _mm256_set1_ps(d * qx[t].d[bi]), acc[t]);
    }
    if constexpr (D != DType::kQ8_0) {
      const float offset = BlockOffset<D>(blk, d);
      for (int t = 0; t < kN; ++t) offsets[t] += offset * qx[t].s[bi];
    }
  }
  for (int t = 0; t < kN; ++t) y[t * y_stride] = Hsum(acc[t]) + offsets[t];
}

// The quants of one kTiles8 block column (`col`), unpacked into the registers Dot<D>::Tile takes.
template <DType D>
inline void UnpackTile(const uint8_t* col, __m256i* qt) {
  const uint8_t* q = col + TileQuantsOffset(D);
  if constexpr (D == DType::kQ8_0) {
    for (int k = 0; k < 8; ++k) qt[k] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q + 32 * k));
  } else {
    const __m256i low = _mm256_set1_epi8(0x0f);
    for (int k = 0; k < 4; ++k) {
      const __m256i nibbles = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q + 32 * k));
      qt[k] = _mm256_and_si256(nibbles, low);
      qt[k + 4] = _mm256_and_si256(_mm256_srli_epi16(nibbles, 4), low);
    }
    if constexpr (D == DType::kQ5_0) {
      // Bit k of each byte is bit 4 of register k's element: shifted into place (16-bit shifts
      // of at most 4 carry nothing into another byte's bit 4).
      const __m256i bits = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(col + kTileHighBits));
      const __m256i bit4 = _mm256_set1_epi8(0x10);
      qt[0] = _mm256_or_si256(qt[0], _mm256_and_si256(_mm256_slli_epi16(bits, 4), bit4));
      qt[1] = _mm256_or_si256(qt[1], _mm256_and_si256(_mm256_slli_epi16(bits, 3), bit4));
      qt[2] = _mm256_or_si256(qt[2], _mm256_and_si256(_mm256_slli_epi16(bits, 2), bit4));
      qt[3] = _mm256_or_si256(qt[3], _mm256_and_si256(_mm256_slli_epi16(bits, 1), bit4));
      qt[4] = _mm256_or_si256(qt[4], _mm256_and_si256(bits, bit4));
      qt[5] = _mm256_or_si256(qt[5], _mm256_and_si256(_mm256_srli_epi16(bits, 1), bit4));
      qt[6] = _mm256_or_si256(qt[6], _mm256_and_si256(_mm256_srli_epi16(bits, 2), bit4));
      qt[7] = _mm256_or_si256(qt[7], _mm256_and_si256(_mm256_srli_epi16(bits, 3), bit4));
    }
  }
}

// The eight f16 values at `field` of a kTiles8 block column, as floats.
inline __m256 TileHalves(const uint8_t* field) {
  return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(field)));
}

// y[t·y_stride + j] = row j · x_t for the eight rows of one kTiles8 group and kN ≥ 1 tokens.
// A token's four activation bytes broadcast against one register give the eight rows' partial
// dots in one instruction, landing in one register: the eight rows need no horizontal sums, and
// the float conversion and scaling are paid once per eight row-blocks and token.
template <template <DType> class Dot, DType D, int kN>
void DotQuantTile(const uint8_t* group, const QuantizedActs* qx, int64_t blocks, float* y, int64_t y_stride) {
  const size_t column_bytes = kTileRows * DTypeBlockBytes(D);
  __m256 acc[kN];
  for (int t = 0; t < kN; ++t) acc[t] = _mm256_setzero_ps();
  for (int64_t b = 0; b < blocks; ++b) {
    const uint8_t* col = group + static_cast<size_t>(b) * column_bytes;
    for (size_t off = 0; off < column_bytes; off += 64)
      _mm_prefetch(reinterpret_cast<const char*>(col + kStreamPrefetchBytes + off), _MM_HINT_T0);
    __m256i qt[8];
    UnpackTile<D>(col, qt);
    const typename Dot<D>::Tile tile(qt);
    const __m256 d = TileHalves(col + kTileScales);
    // value = q·d + offset, per row; the offset meets Σx of the block. For q4_0 and q5_0 it is
    // a whole number of d (−8, −16), so it is subtracted from the integer dot; q4_1's m is not.
    constexpr int32_t kQuantOffset = D == DType::kQ4_0 ? 8 : D == DType::kQ5_0 ? 16 : 0;
    const __m256 m = D == DType::kQ4_1 ? TileHalves(col + kTileMins) : _mm256_setzero_ps();
    const size_t bi = static_cast<size_t>(b);
    for (int t = 0; t < kN; ++t) {
      __m256i idot = tile.Dot(qx[t], bi);
      // Multiplied modulo 2^32 like the vector arithmetic: a block of non-finite activations
      // has a meaningless sum (its scale is NaN anyway), whose product must not be UB.
      if constexpr (kQuantOffset != 0)
        idot = _mm256_sub_epi32(idot, _mm256_set1_epi32(static_cast<int32_t>(
                                          uint32_t{kQuantOffset} * static_cast<uint32_t>(qx[t].sum[bi]))));
      acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(idot), _mm256_mul_ps(d, _mm256_set1_ps(qx[t].d[bi])), acc[t]);
      if constexpr (D == DType::kQ4_1) acc[t] = _mm256_fmadd_ps(m, _mm256_set1_ps(qx[t].s[bi]), acc[t]);
    }
  }
  for (int t = 0; t < kN; ++t) _mm256_storeu_ps(y + t * y_stride, acc[t]);
}

// DotQuantTile for 1 ≤ n ≤ 8 tokens.
template <template <DType> class Dot, DType D>
void DotQuantTileN(const uint8_t* group, const QuantizedActs* qx, int64_t n, int64_t blocks, float* y,
                   int64_t y_stride) {
  switch (n) {
    case 1: return DotQuantTile<Dot, D, 1>(group, qx, blocks, y, y_stride);
    case 2: return DotQuantTile<Dot, D, 2>(group, qx, blocks, y, y_stride);
    case 3: return DotQuantTile<Dot, D, 3>(group, qx, blocks, y, y_stride);
    case 4: return DotQuantTile<Dot, D, 4>(group, qx, blocks, y, y_stride);
    case 5: return DotQuantTile<Dot, D, 5>(group, qx, blocks, y, y_stride);
    case 6: return DotQuantTile<Dot, D, 6>(group, qx, blocks, y, y_stride);
    case 7: return DotQuantTile<Dot, D, 7>(group, qx, blocks, y, y_stride);
    default: return DotQuantTile<Dot, D, 8>(group, qx, blocks, y, y_stride);
  }
}

// Each row is read from memory once. A kTiles8 matrix goes a group of eight rows at a time
// (DotQuantTile), tokens in groups of up to eight; rows in the stored layout (the rows past the
// last group, or a matrix no table packed) go a row at a time.
template <template <DType> class Dot, DType D>
void GemvBlocks(const MatRef& w, const QuantizedActs* qx, int64_t n, float* y) {
  const size_t row_bytes = DTypeRowBytes(D, w.cols);
  const int64_t blocks = w.cols / kQBlock;
  const auto* base = static_cast<const uint8_t*>(w.data);
  const bool tiles = w.layout == MatLayout::kTiles8;
  const int64_t group = tiles ? kTileRows : 1;
  KernelPool().ParallelFor(
      w.rows, MatvecRowChunk(w.rows, row_bytes, group), [&](int64_t begin, int64_t end) {
        int64_t r = begin;
        if (tiles) {
          for (; r + kTileRows <= end; r += kTileRows) {
            for (int64_t t = 0; t < n; t += kTileRows) {
              DotQuantTileN<Dot, D>(base + r * row_bytes, qx + t, std::min<int64_t>(kTileRows, n - t), blocks,
                                    y + t * w.rows + r, w.rows);
            }
          }
        }
        for (; r < end; ++r) {
          const uint8_t* row = base + r * row_bytes;
          int64_t t = 0;
          for (; t + 4 <= n; t += 4) DotQuantRows<Dot, D, 4>(row, qx + t, blocks, y + t * w.rows + r, w.rows);
          for (; t + 2 <= n; t += 2) DotQuantRows<Dot, D, 2>(row, qx + t, blocks, y + t * w.rows + r, w.rows);
          if (t < n) y[t * w.rows + r] = DotQuantRow<Dot, D>(row, qx[t], blocks);
        }
      });
}

// Y[n][rows] = X[n][cols]·Wᵀ for block-quantized W.
template <template <DType> class Dot>
void GemvQuant(const MatRef& w, const float* x, int64_t n, float* y) {
  // Per calling thread, so sessions on different threads never share them; grown, then reused.
  thread_local std::vector<QuantizedActs> qx;
  if (qx.size() < static_cast<size_t>(n)) qx.resize(static_cast<size_t>(n));
  for (int64_t t = 0; t < n; ++t) QuantizeActsAvx2(x + t * w.cols, w.cols, qx[static_cast<size_t>(t)]);
  switch (w.dtype) {
    case DType::kQ8_0:
      return GemvBlocks<Dot, DType::kQ8_0>(w, qx.data(), n, y);
    case DType::kQ4_0:
      return GemvBlocks<Dot, DType::kQ4_0>(w, qx.data(), n, y);
    case DType::kQ4_1:
      return GemvBlocks<Dot, DType::kQ4_1>(w, qx.data(), n, y);
    default:
      return GemvBlocks<Dot, DType::kQ5_0>(w, qx.data(), n, y);
  }
}

}  // namespace
}  // namespace anser
