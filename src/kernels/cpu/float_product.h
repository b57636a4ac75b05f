// The product Y[n][rows] = X[n][cols]·Wᵀ for f32, f16 and bf16 weights and any n, written once
// over a vector type V (AVX2's 8 lanes; see Avx2Floats in simd_avx2.h for what V provides).
//
// Batch invariance (kernels.h): every output, for any n and thread count, is computed exactly as
// one token's: a single V-lane accumulator running over the columns in order, V::kLanes at a
// time (the tail zero-padded), then V::Sum, one fixed tree of horizontal adds. Only the work
// around that arithmetic is arranged by n: the threads take blocks of rows × blocks of tokens
// (as many tokens as fill about a quarter of L2); within a block, kRows weight rows at a time,
// read in their stored type (converted to f32 in registers), meet the block's tokens in
// kRows × kTokens register tiles, each tile a dot product over all the columns at once. The
// first tile of a group of rows prefetches them ahead: with one token (decode) or a few (a
// batch) the rows stream from memory once.
//
// An outer-product (BLIS-style) kernel sums each output over k in another order for every tile
// shape. This one pays a horizontal sum per output, a few adds next to cols/kLanes FMAs, and
// keeps up with it: 512 tokens of 768×768 and 768×3072 f16 and bf16, one thread, 0.94-1.02× the
// time of the packed BLIS-style product it replaced; 8 tokens 0.85-0.96×.
//
// Everything here sits in an unnamed namespace: each ISA's translation unit keeps its own copy,
// and the linker never puts one ISA's instantiation in another's table.
#pragma once

#include <algorithm>
#include <cstdint>

#include "core/dtype.h"
#include "core/thread_pool.h"
#include "kernels/cpu/matvec_split.h"
#include "kernels/kernels.h"

namespace anser {
namespace {

template <class V>
struct FloatProduct {
  using Reg = typename V::Reg;
  static constexpr int kLanes = V::kLanes;
  static constexpr int kRows = V::kTileRows;      // weight rows per register tile
  static constexpr int kTokens = V::kTileTokens;  // tokens per register tile
  // One token alone takes more rows at a time: a chain of FMAs per row, enough of them to hide
  // the FMA latency when the rows come from cache.
  static constexpr int kOneTokenRows = 2 * kRows;
  // Bytes of X one block of tokens holds: about a quarter of L2, beside the weight rows it meets.
  static constexpr int64_t kTokenBlockBytes = 256 << 10;

  template <DType D>
  static constexpr size_t kSize = D == DType::kF32 ? 4 : 2;

  // y[t·ldy + r] = row r · x_t for R rows (rows[r], type D) and T tokens (x_t at x + t·ldx).
  // With `ahead` > 0, each row is prefetched that many bytes ahead as the tile walks it. Never
  // inlined: inlined into its callers' loops, GCC ran out of registers and reloaded the row
  // pointers from the stack at every step (a batch of 8 f16 tokens 12 % slower).
  template <DType D, int R, int T>
  [[gnu::noinline]] static void Tile(const uint8_t* const* rows, const float* x, int64_t ldx,
                                     int64_t cols, float* y, int64_t ldy, int64_t ahead) {
    Reg acc[R][T];
    for (int r = 0; r < R; ++r) {
      for (int t = 0; t < T; ++t) acc[r][t] = V::Zero();
    }
    // The kLanes columns from c on; `full` is false only for the tail.
    const auto step = [&](int64_t c, bool full) {
      if (ahead > 0 && (c * kSize<D>) % 64 == 0) {
        for (int r = 0; r < R; ++r) V::Prefetch(rows[r] + ahead + c * kSize<D>);
      }
      Reg xv[T];
      for (int t = 0; t < T; ++t) {
        const auto* p = reinterpret_cast<const uint8_t*>(x + t * ldx + c);
        xv[t] = full ? V::template Load<DType::kF32>(p)
                     : V::template LoadPartial<DType::kF32>(p, cols - c);
      }
      for (int r = 0; r < R; ++r) {
        const uint8_t* p = rows[r] + c * kSize<D>;
        const Reg w = full ? V::template Load<D>(p) : V::template LoadPartial<D>(p, cols - c);
        for (int t = 0; t < T; ++t) acc[r][t] = V::Fma(w, xv[t], acc[r][t]);
      }
    };
    int64_t c = 0;
    for (; c + kLanes <= cols; c += kLanes) step(c, true);
    if (c < cols) step(c, false);
    // V::Sum4 is four V::Sum (the same tree) for the price of about two.
    for (int t = 0; t < T; ++t) {
      if constexpr (R % 4 == 0) {
        for (int r = 0; r < R; r += 4)
          V::Sum4(acc[r][t], acc[r + 1][t], acc[r + 2][t], acc[r + 3][t], y + t * ldy + r);
      } else {
        for (int r = 0; r < R; ++r) y[t * ldy + r] = V::Sum(acc[r][t]);
      }
    }
  }

  // Tile for R rows and every token of [0, n), kTokens at a time; the first tile prefetches
  // `ahead` (the others find the rows in L1).
  template <DType D, int R>
  static void Tokens(const uint8_t* const* rows, const float* x, int64_t n, int64_t cols, float* y,
                     int64_t ldy, int64_t ahead) {
    int64_t t = 0;
    for (; t + kTokens <= n; t += kTokens) {
      Tile<D, R, kTokens>(rows, x + t * cols, cols, cols, y + t * ldy, ldy, t == 0 ? ahead : 0);
    }
    if (t < n)
      LeftoverTokens<D, R>(n - t, rows, x + t * cols, cols, y + t * ldy, ldy, t == 0 ? ahead : 0);
  }

  template <DType D, int R, int T = 1>
  static void LeftoverTokens(int64_t n, const uint8_t* const* rows, const float* x, int64_t cols,
                             float* y, int64_t ldy, int64_t ahead) {
    if constexpr (T < kTokens) {
      if (n == T) return Tile<D, R, T>(rows, x, cols, cols, y, ldy, ahead);
      LeftoverTokens<D, R, T + 1>(n, rows, x, cols, y, ldy, ahead);
    }
  }

  // Pointers to R consecutive rows from `row0`.
  template <int R>
  static void RowPointers(const uint8_t* row0, size_t row_bytes, const uint8_t** rows) {
    for (int r = 0; r < R; ++r) rows[r] = row0 + r * row_bytes;
  }

  // Rows [r0, r1) for tokens [0, n) of the block at x, y: R rows at a time, then one by one.
  template <DType D, int R>
  static void Rows(const uint8_t* base, size_t row_bytes, int64_t r0, int64_t r1, const float* x,
                   int64_t n, int64_t cols, float* y, int64_t ldy) {
    const uint8_t* rows[R];
    // At least as far as the next group of rows: prefetching into rows being read gains nothing.
    const auto ahead = static_cast<int64_t>(std::max(kStreamPrefetchBytes, R * row_bytes));
    int64_t r = r0;
    for (; r + R <= r1; r += R) {
      RowPointers<R>(base + r * row_bytes, row_bytes, rows);
      Tokens<D, R>(rows, x, n, cols, y + r, ldy, ahead);
    }
    for (; r < r1; ++r) {
      RowPointers<1>(base + r * row_bytes, row_bytes, rows);
      Tokens<D, 1>(rows, x, n, cols, y + r, ldy, kStreamPrefetchBytes);
    }
  }

  template <DType D>
  static void Run(const MatRef& w, const float* x, int64_t n, float* y) {
    const int64_t cols = w.cols;
    const size_t row_bytes = DTypeRowBytes(D, cols);
    const auto* base = static_cast<const uint8_t*>(w.data);
    const int64_t row_chunk = MatvecRowChunk(w.rows, row_bytes, kOneTokenRows);
    const int64_t block_tokens = std::max<int64_t>(
        kTokens, kTokenBlockBytes / (std::max<int64_t>(cols, 1) * 4) / kTokens * kTokens);
    const int64_t token_blocks = (n + block_tokens - 1) / block_tokens;
    const int64_t row_chunks = (w.rows + row_chunk - 1) / row_chunk;
    KernelPool().ParallelFor(row_chunks * token_blocks, 1, [&](int64_t begin, int64_t end) {
      for (int64_t item = begin; item < end; ++item) {
        const int64_t r0 = item / token_blocks * row_chunk, r1 = std::min(w.rows, r0 + row_chunk);
        const int64_t t0 = item % token_blocks * block_tokens, t1 = std::min(n, t0 + block_tokens);
        if (n == 1) {
          Rows<D, kOneTokenRows>(base, row_bytes, r0, r1, x, 1, cols, y, w.rows);
        } else {
          Rows<D, kRows>(base, row_bytes, r0, r1, x + t0 * cols, t1 - t0, cols, y + t0 * w.rows,
                         w.rows);
        }
      }
    });
  }
};

}  // namespace
}  // namespace anser
