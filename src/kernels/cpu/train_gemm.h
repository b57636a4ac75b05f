// Training's products (the gemm_* entries of kernels.h) for the SIMD tables, written once over a
// lane type V:
// - V::Packed, what the packed panels hold, and V::kPackDepth, the k steps one of them carries:
//   float and 1 for the float32 products; a pair of bfloat16 in a uint32_t and 2 for the
//   bfloat16 ones (V::Pack(x, y) makes one from the k step's value and the next one's);
// - V::In, a register of V::kLanes packed values (LoadIn; BroadcastIn repeats one), and V::Acc,
//   a register of kLanes float sums (Zero, LoadAcc, StoreAcc, AddAcc); Madd(a, b, acc) adds
//   Σ over the packed k steps of a·b to acc;
// - V::kTileRows, the rows of the register tile.
//
// BLIS's loop nest. The output goes in blocks of kBlockRows × kBlockCols, the unit the threads
// take, column block by column block; up to kStripBlocks consecutive blocks of one column block
// that a thread takes form a strip. Per strip, k runs in slices of kDepth; per slice, B's
// kDepth × kBlockCols block is packed once into panels of kCols = 2·kLanes columns (one packed
// step of a panel is two contiguous vectors; the block stays in L2) and met by every row block of
// the strip, A read in panels of kTileRows rows (one panel stays in L1 while it meets every B
// panel). The register tile holds kTileRows × 2 vectors of C while k runs: per packed step two
// loads of B and kTileRows broadcasts of A feed 2·kTileRows multiply-adds. Packing B makes every
// layout of it (B or Bᵀ) the same kernel, the edges zero-padded. Float32 broadcasts a row-major
// A's values where they lie, so only its edge panels are packed; Aᵀ (its k steps a row of C
// apart, a page or more) and every bfloat16 panel are packed.
//
// Each output is summed per slice from zero, k in order, and the slice's sum added to C: an order
// fixed by the sizes alone, whatever thread takes the block.
//
// Everything here sits in an unnamed namespace: each ISA's translation unit keeps its own copy.
// It instantiates no standard-library template (no vector, min or fill), whose one copy the
// linker could take from this ISA's translation unit for every other.
#pragma once

#include <cstdint>

#include "kernels/train_products.h"

namespace anser {
namespace {

template <class V>
struct TrainGemm {
  using Packed = typename V::Packed;
  using Acc = typename V::Acc;
  using In = typename V::In;
  static constexpr int kLanes = V::kLanes;
  static constexpr int kRows = V::kTileRows;
  static constexpr int kCols = 2 * kLanes;
  static constexpr int kStep = V::kPackDepth;
  static constexpr int64_t kDepth = 256;
  static constexpr int64_t kBlockRows = 96;
  static constexpr int64_t kBlockCols = 256;
  // Row blocks of one strip at most: its part of C (384 × 256 floats) stays in L2 across slices.
  static constexpr int64_t kStripBlocks = 4;
  static_assert(kBlockRows % kRows == 0 && kBlockCols % kCols == 0 && kDepth % kStep == 0);

  static int64_t Min(int64_t a, int64_t b) { return a < b ? a : b; }
  static int64_t RoundUp(int64_t a, int64_t b) { return (a + b - 1) / b * b; }
  // Packed steps of `depth` k values.
  static int64_t Steps(int64_t depth) { return (depth + kStep - 1) / kStep; }

  // A(i, p) = data[i·row_stride + p·col_stride]: a matrix or a transposed one, read in place.
  struct View {
    const float* data;
    int64_t row_stride;
    int64_t col_stride;
  };

  // The packed value of the k step at `p` (of `left` ≥ 1 still in the slice), `stride` apart.
  static Packed PackAt(const float* p, int64_t stride, int64_t left) {
    return V::Pack(p[0], kStep > 1 && left > 1 ? p[stride] : 0.0f);
  }

  // A's rows [i0, i0 + rows) × depth [p0, p0 + depth) into panels of kRows rows: the panel of
  // rows q… (q a multiple of kRows) starts at out + q·Steps(depth) and holds, per packed step s,
  // A(i0 + q + r, p0 + s·kStep…) for r < kRows, zero past the last row.
  static void PackA(View a, int64_t i0, int64_t rows, int64_t p0, int64_t depth, Packed* out) {
    const int64_t steps = Steps(depth);
    for (int64_t q = 0; q < rows; q += kRows) {
      const int live = static_cast<int>(Min(kRows, rows - q));
      const float* src = a.data + (i0 + q) * a.row_stride + p0 * a.col_stride;
      Packed* panel = out + q * steps;
      for (int64_t s = 0; s < steps; ++s) {
        const int64_t p = s * kStep;
        for (int r = 0; r < live; ++r)
          panel[s * kRows + r] = PackAt(src + r * a.row_stride + p * a.col_stride, a.col_stride, depth - p);
        for (int r = live; r < kRows; ++r) panel[s * kRows + r] = V::Pack(0.0f, 0.0f);
      }
    }
  }

  // B's depth [p0, p0 + depth) × columns [j0, j0 + cols) into panels of kCols columns: the panel
  // of columns j… starts at out + j·Steps(depth) and holds, per packed step s, B(p0 + s·kStep…,
  // j0 + j + c) for c < kCols, zero past the last column. Read along whichever of B's strides is 1.
  static void PackB(View b, int64_t p0, int64_t depth, int64_t j0, int64_t cols, Packed* out) {
    const int64_t steps = Steps(depth);
    for (int64_t j = 0; j < cols; j += kCols) {
      const int live = static_cast<int>(Min(kCols, cols - j));
      const float* src = b.data + p0 * b.row_stride + (j0 + j) * b.col_stride;
      Packed* panel = out + j * steps;
      if (b.col_stride == 1) {
        for (int64_t s = 0; s < steps; ++s) {
          const float* row = src + s * kStep * b.row_stride;
          for (int c = 0; c < kCols; ++c) {
            panel[s * kCols + c] =
                c < live ? PackAt(row + c, b.row_stride, depth - s * kStep) : V::Pack(0.0f, 0.0f);
          }
        }
      } else {
        for (int c = 0; c < kCols; ++c) {
          for (int64_t s = 0; s < steps; ++s) {
            panel[s * kCols + c] =
                c < live ? PackAt(src + c * b.col_stride + s * kStep * b.row_stride, b.row_stride,
                                  depth - s * kStep)
                         : V::Pack(0.0f, 0.0f);
          }
        }
      }
    }
  }

  // A's panel of kRows rows in the packed layout: the value of row r at packed step s is at
  // s·kRows + r.
  struct PackedPanel {
    const Packed* p;
    const Packed* At(int64_t s, int r) const { return p + s * kRows + r; }
  };
  // A's panel of kRows rows read where A lies, its rows `row_stride` apart and each row's k
  // values contiguous (float32 only: a packed step is one k value).
  struct InPlacePanel {
    const float* p;
    int64_t row_stride;
    const float* At(int64_t s, int r) const { return p + s + r * row_stride; }
  };

  // C[r][c] (+)= Σ_s A(r, s) · b[s·kCols + c] over `steps` packed steps, for a whole tile at c
  // (row stride ldc): added to C when `add`, else stored.
  template <class Panel>
  static void Tile(int64_t steps, Panel a, const Packed* b, float* c, int64_t ldc, bool add) {
    Acc acc[kRows][2];
    for (int r = 0; r < kRows; ++r) acc[r][0] = acc[r][1] = V::Zero();
    for (int64_t s = 0; s < steps; ++s) {
      const In b0 = V::LoadIn(b + s * kCols), b1 = V::LoadIn(b + s * kCols + kLanes);
      for (int r = 0; r < kRows; ++r) {
        const In x = V::BroadcastIn(a.At(s, r));
        acc[r][0] = V::Madd(x, b0, acc[r][0]);
        acc[r][1] = V::Madd(x, b1, acc[r][1]);
      }
    }
    for (int r = 0; r < kRows; ++r) {
      float* cr = c + r * ldc;
      if (add) {
        acc[r][0] = V::AddAcc(V::LoadAcc(cr), acc[r][0]);
        acc[r][1] = V::AddAcc(V::LoadAcc(cr + kLanes), acc[r][1]);
      }
      V::StoreAcc(cr, acc[r][0]);
      V::StoreAcc(cr + kLanes, acc[r][1]);
    }
  }

  // The same for the `rows` × `cols` corner of a tile at an edge of C: the whole tile into a
  // scratch tile (the packed panels are zero-padded), its corner added to C or stored.
  template <class Panel>
  static void EdgeTile(int64_t steps, Panel a, const Packed* b, float* c, int64_t ldc,
                       int rows, int cols, bool add) {
    float tile[kRows * kCols];
    Tile(steps, a, b, tile, kCols, false);
    for (int r = 0; r < rows; ++r) {
      float* cr = c + r * ldc;
      for (int j = 0; j < cols; ++j)
        cr[j] = add ? cr[j] + tile[r * kCols + j] : tile[r * kCols + j];
    }
  }

  // C[rows][cols] = A·B (or C += … when accumulate), A rows × depth, B depth × cols.
  static void Run(View a, View b, int64_t rows, int64_t depth, int64_t cols, float* c,
                  bool accumulate, int threads) {
    if (rows == 0 || cols == 0) return;
    if (depth == 0) {
      if (!accumulate) {
        for (int64_t i = 0; i < rows * cols; ++i) c[i] = 0.0f;
      }
      return;
    }
    const int64_t row_blocks = (rows + kBlockRows - 1) / kBlockRows;
    const int64_t col_blocks = (cols + kBlockCols - 1) / kBlockCols;
    const int64_t blocks = row_blocks * col_blocks;
    // Packing buffers a part, as large as the largest block needs.
    const int64_t slice = Steps(Min(depth, kDepth));
    const int64_t a_size = RoundUp(Min(rows, kBlockRows), kRows) * slice;
    const int64_t b_size = RoundUp(Min(cols, kBlockCols), kCols) * slice;
    // Blocks go column block by column block, so a part's blocks of one column block form a
    // strip that packs each slice of B once for all its row blocks.
    RunOverTiles(blocks, rows * cols / blocks * depth, threads, [&](int64_t begin, int64_t end) {
      Packed* packed = new Packed[a_size + b_size];
      for (int64_t block = begin; block < end;) {
        const int64_t col_block = block / row_blocks;
        const int64_t strip_end = Min(Min(end, (col_block + 1) * row_blocks), block + kStripBlocks);
        const int64_t i0 = block % row_blocks * kBlockRows;
        const int64_t i1 = Min(rows, (strip_end - col_block * row_blocks) * kBlockRows);
        const int64_t j0 = col_block * kBlockCols;
        Strip(a, b, i0, i1, j0, Min(kBlockCols, cols - j0), depth, c, cols, accumulate, packed,
              packed + a_size);
        block = strip_end;
      }
      delete[] packed;
    });
  }

  // Rows [i0, i1) × columns [j0, j0 + cols) of C, at most kBlockCols wide: k in slices, each
  // slice of B packed once, then each block of kBlockRows rows of A met with it. A float32
  // row-major A's whole panels are read where they lie (a broadcast per row and step either
  // way); other panels are packed.
  static void Strip(View a, View b, int64_t i0, int64_t i1, int64_t j0, int64_t cols,
                    int64_t depth, float* c, int64_t ldc, bool accumulate, Packed* packed_a,
                    Packed* packed_b) {
    const bool in_place = kStep == 1 && a.col_stride == 1;
    for (int64_t p0 = 0; p0 < depth; p0 += kDepth) {
      const int64_t d = Min(kDepth, depth - p0), steps = Steps(d);
      const bool add = accumulate || p0 > 0;
      PackB(b, p0, d, j0, cols, packed_b);
      for (int64_t ib = i0; ib < i1; ib += kBlockRows) {
        const int64_t rows = Min(kBlockRows, i1 - ib);
        const int64_t packed_from = in_place ? rows / kRows * kRows : 0;
        if (packed_from < rows) {
          PackA(a, ib + packed_from, rows - packed_from, p0, d, packed_a + packed_from * steps);
        }
        for (int64_t q = 0; q < rows; q += kRows) {
          const int tile_rows = static_cast<int>(Min(kRows, rows - q));
          const auto tiles = [&](auto panel_a) {
            for (int64_t j = 0; j < cols; j += kCols) {
              const int tile_cols = static_cast<int>(Min(kCols, cols - j));
              const Packed* panel_b = packed_b + j * steps;
              float* ct = c + (ib + q) * ldc + j0 + j;
              if (tile_rows < kRows || tile_cols < kCols) {
                EdgeTile(steps, panel_a, panel_b, ct, ldc, tile_rows, tile_cols, add);
              } else {
                Tile(steps, panel_a, panel_b, ct, ldc, add);
              }
            }
          };
          if constexpr (kStep == 1) {
            if (in_place && tile_rows == kRows) {
              tiles(InPlacePanel{a.data + (ib + q) * a.row_stride + p0, a.row_stride});
              continue;
            }
          }
          tiles(PackedPanel{packed_a + q * steps});
        }
      }
    }
  }

  static void NN(const float* a, const float* b, int64_t n, int64_t k, int64_t m, float* c,
                 bool accumulate, int threads) {
    Run({a, k, 1}, {b, m, 1}, n, k, m, c, accumulate, threads);
  }
  static void NT(const float* a, const float* b, int64_t n, int64_t k, int64_t m, float* c,
                 bool accumulate, int threads) {
    Run({a, k, 1}, {b, 1, k}, n, k, m, c, accumulate, threads);
  }
  static void TNAcc(const float* a, const float* b, int64_t n, int64_t m, int64_t k, float* c,
                    int threads) {
    Run({a, 1, m}, {b, k, 1}, m, n, k, c, true, threads);
  }
};

}  // namespace
}  // namespace anser
