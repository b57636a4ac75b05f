// The tile layouts of block-quantized matrices, which the SIMD tables' products read: kTiles8
// (the AVX2 tables) and kTiles16 (the AVX-512 table). Rows go in groups of R = 8 or 16, each
// group's blocks interleaved by block column, so that one register holds elements 4k..4k+3 of
// all R rows (32-bit lane j = row j): a token's four activation bytes, broadcast, meet R rows in
// one instruction with no horizontal sums, and the R rows stream as one contiguous range.
// Rearranging once at load takes the transposition (about a fifth of the 8-token q8_0 product)
// and the scattered scale loads out of every product.
//
// Group g (rows R·g … R·g + R − 1) keeps its bytes [R·g·row_bytes, R·(g+1)·row_bytes): block
// column b takes the R·block_bytes bytes from b·R·block_bytes on, the same size as the R blocks:
//   [0, 2R)          f16 d of rows 0…R−1
//   q4_1, q5_1: [2R, 4R)   f16 m of rows 0…R−1
//   q5_0: [2R, 6R), q5_1: [4R, 8R)   bit 4 of the quants: byte 4j+i, bit k = that of element
//                                    4k+i of row j
//   then the quants, 4R bytes per register, byte 4j+i of register k:
//     q8_0: element 4k+i of row j (k = 0…7)
//     4/5-bit (iq4_nl: its codes): low nibble element 4k+i, high nibble element 16+4k+i of row j
//     (k = 0…3)
// q4_K (super-blocks of 256, eight 32-element sub-blocks j) columns take R·144 bytes the same way:
//   [0, 2R)          f16 d of rows 0…R−1;  [2R, 4R) f16 dmin
//   [4R, 12R)        byte j·R + r: scale sc_j of row r | (min m_j & 3) << 6
//   [12R, 16R)       byte (j / 2)·R + r: m_j >> 2 in the low (j even) or high (j odd) nibble
//   [16R, 144R)      sub-block j's quants from 16R + 16R·j, as the 4-bit types' above
// q5_K columns take R·176 bytes: q4_K's, except that sub-block j's 20R bytes from 16R + 20R·j
//   hold its low 4 bits as q4_K's, then bit 4 of its quants as q5_0's high bits above
// q6_K columns take R·210 bytes:
//   [0, 2R)          f16 d of rows 0…R−1
//   [2R, 18R)        byte g·R + r: int8 scale of row r's 16-element group g
//   [18R, 210R)      sub-block j's 24R bytes from 18R + 24R·j: its low 4 bits as the 4-bit types'
//                    quants above, then bits 4, 5 as q3_K's two 2-bit planes below
// iq4_xs columns take R·136 bytes:
//   [0, 2R)          f16 d of rows 0…R−1
//   [2R, 6R)         byte j·R + r (j 0…3): scale ls_j of row r | (ls_j+4 & 3) << 6
//   [6R, 8R)         byte i·R + r (i 0, 1): ls_4+2i >> 2 in the low, ls_5+2i >> 2 in the high
//   nibble [8R, 136R)       sub-block j's codes from 8R + 16R·j, as the 4-bit types' quants above
// q3_K columns take R·110 bytes:
//   [0, 2R)          f16 d of rows 0…R−1
//   [2R, 14R)        the 16 6-bit scales sc_g as iq4_xs's 8 (bytes g·R + r for g < 8 with bits 0, 1
//                    of sc_g+8 at bits 6, 7; then byte i·R + r from 10R: sc_8+2i >> 2 in the low,
//                    sc_9+2i >> 2 in the high nibble)
//   [14R, 110R)      sub-block j's 12R bytes from 14R + 12R·j: its 2 low bits as two 2-bit planes
//                    (registers m of 4R bytes, byte 4r + i holding those of element 4k + i of row r
//                    at bits 2(k − 4m), 2(k − 4m) + 1 for k = 4m…4m+3), then its high bits as
//                    q5_0's bit 4 above
// q2_K columns take R·84 bytes:
//   [0, 2R)          f16 d of rows 0…R−1;  [2R, 4R) f16 dmin
//   [4R, 20R)        byte g·R + r: scale byte sc | m << 4 of row r's 16-element group g
//   [20R, 84R)       sub-block j's quants from 20R + 8R·j, as q3_K's two 2-bit planes
// Rows past the last whole group stay as stored.
#pragma once

#include <cstddef>

#include "core/dtype.h"
#include "kernels/kernels.h"

namespace anser {

inline constexpr size_t kTileScales = 0;

inline constexpr int kMaxTileRows = 16;
// Rows per group of a tile layout.
constexpr int TileRows(MatLayout layout) { return layout == MatLayout::kTiles16 ? 16 : 8; }
// Where a block column's q4_1 and q5_1 mins, q5_0 and q5_1 high bits and quants start, for
// groups of `rows`.
constexpr size_t TileMinsOffset(int rows) { return 2 * static_cast<size_t>(rows); }
constexpr size_t TileHighBitsOffset(DType d, int rows) {
  return static_cast<size_t>(rows) * (d == DType::kQ5_1 ? 4 : 2);
}
constexpr size_t TileQuantsOffset(DType d, int rows) {
  return static_cast<size_t>(rows) * (d == DType::kQ4_1   ? 4
                                      : d == DType::kQ5_0 ? 6
                                      : d == DType::kQ5_1 ? 8
                                                          : 2);
}

// Where a q4_K or q5_K column's packed scales, high min bits and sub-block j's quants start.
constexpr size_t TileQ4KScalesOffset(int rows) { return 4 * static_cast<size_t>(rows); }
constexpr size_t TileQ4KMinsOffset(int rows) { return 12 * static_cast<size_t>(rows); }
constexpr size_t TileQ4KQuantsOffset(DType d, int rows, int j) {
  return static_cast<size_t>(rows) * (16 + (d == DType::kQ5_K ? 20 : 16) * static_cast<size_t>(j));
}

// Where an iq4_xs column's scales and sub-block j's codes start.
constexpr size_t TileIq4XsScalesOffset(int rows) { return 2 * static_cast<size_t>(rows); }
constexpr size_t TileIq4XsQuantsOffset(int rows, int j) {
  return static_cast<size_t>(rows) * (8 + 16 * static_cast<size_t>(j));
}

// Where a q3_K column's scales, a q2_K column's scales and sub-block j's quants start.
constexpr size_t TileQ3KScalesOffset(int rows) { return 2 * static_cast<size_t>(rows); }
constexpr size_t TileQ2KScalesOffset(int rows) { return 4 * static_cast<size_t>(rows); }
constexpr size_t TileQ23KQuantsOffset(DType d, int rows, int j) {
  return static_cast<size_t>(rows) *
         (d == DType::kQ3_K ? 14 + 12 * static_cast<size_t>(j) : 20 + 8 * static_cast<size_t>(j));
}

// Where a q6_K column's scales and sub-block j's quants start.
constexpr size_t TileQ6KScalesOffset(int rows) { return 2 * static_cast<size_t>(rows); }
constexpr size_t TileQ6KQuantsOffset(int rows, int j) {
  return static_cast<size_t>(rows) * (18 + 24 * static_cast<size_t>(j));
}

// The `pack` of the AVX2 tables (kTiles8) and of the AVX-512 table (kTiles16): matrices of the
// 32-element block types and the K-quants rearranged, float matrices left as they are.
void PackTiles8(MatRef& w, void* bytes);
void PackTiles16(MatRef& w, void* bytes);

}  // namespace anser
