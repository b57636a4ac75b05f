// The kTiles8 layout of block-quantized matrices, which the AVX2 tables' products read: rows in
// groups of eight, each group's blocks interleaved by block column, so that one 32-byte register
// holds elements 4k..4k+3 of all eight rows (lane j = row j). A token's four activation bytes,
// broadcast, meet eight rows in one instruction with no horizontal sums, and the eight rows
// stream as one contiguous range. Rearranging once at load takes the transposition (about a
// fifth of the 8-token q8_0 product) and the scattered scale loads out of every product.
//
// Group g (rows 8g … 8g+7) keeps its bytes [8g·row_bytes, 8(g+1)·row_bytes): block column b
// takes the 8·block_bytes bytes from b·8·block_bytes on, the same size as the eight blocks:
//   [0, 16)   f16 d of rows 0…7
//   q4_1: [16, 32) f16 m of rows 0…7
//   q5_0: [16, 48) bit 4 of the quants: byte 4j+i, bit k = that of element 4k+i of row j
//   then the quants, 32 bytes per register, byte 4j+i of register k:
//     q8_0: element 4k+i of row j (k = 0…7)
//     4/5-bit: low nibble element 4k+i, high nibble element 16+4k+i of row j (k = 0…3)
// Rows past the last whole group stay as stored.
#pragma once

#include <cstddef>

#include "core/dtype.h"
#include "kernels/kernels.h"

namespace anser {

inline constexpr int kTileRows = 8;
inline constexpr size_t kTileScales = 0;
inline constexpr size_t kTileMins = 16;      // q4_1
inline constexpr size_t kTileHighBits = 16;  // q5_0

// Where a block column's quants start.
constexpr size_t TileQuantsOffset(DType d) { return d == DType::kQ4_1 ? 32 : d == DType::kQ5_0 ? 48 : 16; }

// The `pack` of the AVX2 tables: block-quantized matrices to kTiles8, others left as they are.
void PackTiles8(MatRef& w, void* bytes);

}  // namespace anser
