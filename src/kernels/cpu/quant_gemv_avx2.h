// The block-quantized product for any number of tokens (decode, batches, prompts), written once
// over the tile registers W of a table (Avx2Tiles: kTiles8 in 256-bit registers; Avx512Tiles:
// kTiles16 in 512-bit ones; Avx2Tiles16: kTiles16 in 256-bit halves) and the 8-bit dot product it
// is built on: `Dot<D>` (AVX2's maddubs, or VNNI's dpbusd) says how one weight block meets one
// activation block; everything else (unpacking, scales, offsets, threads) is here. x is quantized
// once to 8 bits per 32-block, as GGML's q8_0 × q8_0 path does: dequantizing the weights to floats
// instead costs about twice the instructions per weight, which at two cores no longer keeps up with
// the memory.
//
// Batch invariance (kernels.h): a token's output for a row is summed the same way whatever else
// is computed with it: in a tile group, one accumulator lane per row over the blocks in order;
// in the rows left over, one accumulator per token (DotQuantRow, DotQuantRows).
//
// Everything here sits in an unnamed namespace, so each ISA's translation unit keeps its own
// copy and the linker never swaps one ISA's kernel into another's table.
#pragma once

#include <immintrin.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "core/check.h"
#include "core/thread_pool.h"
#include "kernels/cpu/kquant_gemv_avx2.h"
#include "kernels/cpu/matvec_split.h"
#include "kernels/cpu/quant_avx2.h"
#include "kernels/cpu/simd_avx2.h"
#include "kernels/cpu/tiles.h"
#include "kernels/kernels.h"

namespace anser {
namespace {

// What Dot<D> provides, for weights of type D (quants as BlockQuants<D> gives them):
//   Dot<D>::Block(q)       one weight block, prepared once for every token;
//     .Dot(x)              eight int32 partial sums of the block's dot with activation block x
//                          (QuantizedActs::Block); their sum is the dot;
//   Dot<D>::Tile(qt)       one block column of a tile group: qt[k] lane j = elements 4k..4k+3
//                          of row j (W::I registers, as UnpackTile gives them);
//     .Dot(x)              lane j = row j's block · activation block x.

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
    if (b % 2 == 0)
      _mm_prefetch(reinterpret_cast<const char*>(blk + kStreamPrefetchBytes), _MM_HINT_T0);
    const QuantizedActs::Block& x = qx.blocks[static_cast<size_t>(b)];
    const __m256 dot = _mm256_cvtepi32_ps(typename Dot<D>::Block(BlockQuants<D>(blk)).Dot(x));
    const float d = BlockScale(blk);
    if constexpr (!SignedQuants(D)) offsets += BlockOffset<D>(blk, d) * x.s;
    acc = _mm256_fmadd_ps(dot, _mm256_set1_ps(d * x.d), acc);
  }
  return Hsum(acc) + offsets;
}

// The same for kN tokens at once, each token's sum as DotQuantRow's: each weight block is
// unpacked once and meets the kN tokens' activation blocks (the rows a tile group leaves over).
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
      const __m256 dot = _mm256_cvtepi32_ps(block.Dot(qx[t].blocks[bi]));
      acc[t] = _mm256_fmadd_ps(dot, _mm256_set1_ps(d * qx[t].blocks[bi].d), acc[t]);
    }
    if constexpr (!SignedQuants(D)) {
      const float offset = BlockOffset<D>(blk, d);
      for (int t = 0; t < kN; ++t) offsets[t] += offset * qx[t].blocks[bi].s;
    }
  }
  for (int t = 0; t < kN; ++t) y[t * y_stride] = Hsum(acc[t]) + offsets[t];
}

// The quants of rows [part·W::kRows, (part + 1)·W::kRows) of one tile block column (`col`,
// groups of W::kGroupRows), unpacked into the registers Dot<D>::Tile takes.
template <class W, DType D>
inline void UnpackTile(const uint8_t* col, int part, typename W::I* qt) {
  constexpr size_t kRegisterBytes = 4 * W::kGroupRows;
  const size_t lanes = 4 * static_cast<size_t>(W::kRows * part);
  const uint8_t* q = col + TileQuantsOffset(D, W::kGroupRows) + lanes;
  if constexpr (D == DType::kQ8_0) {
    for (int k = 0; k < 8; ++k) qt[k] = W::Load(q + kRegisterBytes * k);
  } else {
    UnpackNibbles<W>(q, qt);
    if constexpr (D == DType::kQ5_0 || D == DType::kQ5_1)
      OrHighBits<W>(col + TileHighBitsOffset(D, W::kGroupRows) + lanes, qt);
    if constexpr (D == DType::kIQ4_NL) LookUpIq4Levels<W>(qt);
  }
}

// y[t·y_stride + j] = row j · x_t for the W::kGroupRows rows of one tile group and kN ≥ 1
// tokens, W::kRows rows per register. A token's four activation bytes broadcast against one
// register give those rows' partial dots in one instruction, landing in one register: the rows
// need no horizontal sums, and the float conversion and scaling are paid once per register of
// row-blocks and token. Each lane's arithmetic is the same whatever the register width.
template <class W, template <DType> class Dot, DType D, int kN>
void DotQuantTile(const uint8_t* group, const QuantizedActs* qx, int64_t blocks, float* y,
                  int64_t y_stride) {
  constexpr int kParts = W::kGroupRows / W::kRows;
  const size_t column_bytes = W::kGroupRows * DTypeBlockBytes(D);
  typename W::F acc[kParts][kN];
  for (int p = 0; p < kParts; ++p) {
    for (int t = 0; t < kN; ++t) acc[p][t] = W::Zero();
  }
  for (int64_t b = 0; b < blocks; ++b) {
    const uint8_t* col = group + static_cast<size_t>(b) * column_bytes;
    for (size_t off = 0; off < column_bytes; off += 64)
      _mm_prefetch(reinterpret_cast<const char*>(col + kStreamPrefetchBytes + off), _MM_HINT_T0);
    // value = q·d + offset, per row; the offset meets Σx of the block. For q4_0 and q5_0 it is
    // a whole number of d (−8, −16), so it is subtracted from the integer dot; q4_1's and q5_1's
    // m is not.
    constexpr uint32_t kQuantOffset = D == DType::kQ4_0 ? 8 : D == DType::kQ5_0 ? 16 : 0;
    for (int p = 0; p < kParts; ++p) {
      typename W::I qt[8];
      UnpackTile<W, D>(col, p, qt);
      const typename Dot<D>::Tile tile(qt);
      const size_t halves = 2 * static_cast<size_t>(W::kRows * p);
      const typename W::F d = W::Halves(col + kTileScales + halves);
      constexpr bool kMin = D == DType::kQ4_1 || D == DType::kQ5_1;
      const typename W::F m =
          kMin ? W::Halves(col + TileMinsOffset(W::kGroupRows) + halves) : W::Zero();
      for (int t = 0; t < kN; ++t) {
        const QuantizedActs::Block& x = qx[t].blocks[static_cast<size_t>(b)];
        typename W::I idot = tile.Dot(x);
        if constexpr (kQuantOffset != 0) idot = W::Sub(idot, TimesSum(kQuantOffset, x.sum));
        acc[p][t] = W::Fma(W::Float(idot), W::Mul(d, x.d), acc[p][t]);
        if constexpr (kMin) acc[p][t] = W::FmaScalar(m, x.s, acc[p][t]);
      }
    }
  }
  for (int p = 0; p < kParts; ++p) {
    for (int t = 0; t < kN; ++t) W::Store(y + t * y_stride + p * W::kRows, acc[p][t]);
  }
}

// DotQuantTile for 1 ≤ n ≤ 8 tokens.
template <class W, template <DType> class Dot, DType D>
void DotQuantTileN(const uint8_t* group, const QuantizedActs* qx, int64_t n, int64_t blocks,
                   float* y, int64_t y_stride) {
  switch (n) {
    case 1:
      return DotQuantTile<W, Dot, D, 1>(group, qx, blocks, y, y_stride);
    case 2:
      return DotQuantTile<W, Dot, D, 2>(group, qx, blocks, y, y_stride);
    case 3:
      return DotQuantTile<W, Dot, D, 3>(group, qx, blocks, y, y_stride);
    case 4:
      return DotQuantTile<W, Dot, D, 4>(group, qx, blocks, y, y_stride);
    case 5:
      return DotQuantTile<W, Dot, D, 5>(group, qx, blocks, y, y_stride);
    case 6:
      return DotQuantTile<W, Dot, D, 6>(group, qx, blocks, y, y_stride);
    case 7:
      return DotQuantTile<W, Dot, D, 7>(group, qx, blocks, y, y_stride);
    default:
      return DotQuantTile<W, Dot, D, 8>(group, qx, blocks, y, y_stride);
  }
}

// Each row is read from memory once. A matrix in the table's tile layout goes a group of rows at
// a time (DotQuantTile), tokens in groups of up to eight; rows in the stored layout (the rows
// past the last group, or a matrix no table packed) go a row at a time.
template <class W, template <DType> class Dot, DType D>
void GemvBlocks(const MatRef& w, const QuantizedActs* qx, int64_t n, float* y) {
  ANSER_CHECK(w.layout == MatLayout::kRows || w.layout == W::kLayout,
              "matrix packed for another kernel table");
  const size_t row_bytes = DTypeRowBytes(D, w.cols);
  const int64_t blocks = w.cols / kQBlock;
  const auto* base = static_cast<const uint8_t*>(w.data);
  const bool tiles = w.layout == W::kLayout;
  const int64_t group = tiles ? W::kGroupRows : 1;
  constexpr int64_t kTileTokens = 8;
  KernelPool().ParallelFor(
      w.rows, MatvecRowChunk(w.rows, row_bytes, group), [&](int64_t begin, int64_t end) {
        int64_t r = begin;
        if (tiles) {
          for (; r + W::kGroupRows <= end; r += W::kGroupRows) {
            for (int64_t t = 0; t < n; t += kTileTokens) {
              DotQuantTileN<W, Dot, D>(base + r * row_bytes, qx + t, std::min(kTileTokens, n - t),
                                       blocks, y + t * w.rows + r, w.rows);
            }
          }
        }
        for (; r < end; ++r) {
          const uint8_t* row = base + r * row_bytes;
          int64_t t = 0;
          for (; t + 4 <= n; t += 4)
            DotQuantRows<Dot, D, 4>(row, qx + t, blocks, y + t * w.rows + r, w.rows);
          for (; t + 2 <= n; t += 2)
            DotQuantRows<Dot, D, 2>(row, qx + t, blocks, y + t * w.rows + r, w.rows);
          if (t < n) y[t * w.rows + r] = DotQuantRow<Dot, D>(row, qx[t], blocks);
        }
      });
}

// Y[n][rows] = X[n][cols]·Wᵀ for block-quantized W (the K-quants: kquant_gemv_avx2.h).
template <class W, template <DType> class Dot>
void GemvQuant(const MatRef& w, const float* x, int64_t n, float* y) {
  // Per calling thread, so sessions on different threads never share them; grown, then reused.
  thread_local std::vector<QuantizedActs> qx;
  if (qx.size() < static_cast<size_t>(n)) qx.resize(static_cast<size_t>(n));
  for (int64_t t = 0; t < n; ++t) QuantizeActs(x + t * w.cols, w.cols, qx[static_cast<size_t>(t)]);
  switch (w.dtype) {
    case DType::kQ8_0:
      return GemvBlocks<W, Dot, DType::kQ8_0>(w, qx.data(), n, y);
    case DType::kQ4_0:
      return GemvBlocks<W, Dot, DType::kQ4_0>(w, qx.data(), n, y);
    case DType::kQ4_1:
      return GemvBlocks<W, Dot, DType::kQ4_1>(w, qx.data(), n, y);
    case DType::kQ5_0:
      return GemvBlocks<W, Dot, DType::kQ5_0>(w, qx.data(), n, y);
    case DType::kQ5_1:
      return GemvBlocks<W, Dot, DType::kQ5_1>(w, qx.data(), n, y);
    case DType::kIQ4_NL:
      return GemvBlocks<W, Dot, DType::kIQ4_NL>(w, qx.data(), n, y);
    case DType::kQ4_K:
      return GemvKBlocks<W, Dot, DType::kQ4_K>(w, qx.data(), n, y);
    case DType::kQ5_K:
      return GemvKBlocks<W, Dot, DType::kQ5_K>(w, qx.data(), n, y);
    case DType::kQ6_K:
      return GemvKBlocks<W, Dot, DType::kQ6_K>(w, qx.data(), n, y);
    case DType::kIQ4_XS:
      return GemvKBlocks<W, Dot, DType::kIQ4_XS>(w, qx.data(), n, y);
    case DType::kQ3_K:
      return GemvKBlocks<W, Dot, DType::kQ3_K>(w, qx.data(), n, y);
    case DType::kQ2_K:
      return GemvKBlocks<W, Dot, DType::kQ2_K>(w, qx.data(), n, y);
    default:
      ANSER_CHECK(false, "GemvQuant: not a block type with kernels");
  }
}

}  // namespace
}  // namespace anser
