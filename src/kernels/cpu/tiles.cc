#include "kernels/cpu/tiles.h"

#include <cstdint>
#include <cstring>
#include <vector>

#include "core/thread_pool.h"
#include "kernels/quant_blocks.h"

namespace anser {
namespace {

// One block column of `rows` rows: `blocks[j]` is row j's stored block. Every quant field moves
// as 4-byte groups: element 4k+i of q8_0, and for the nibble types the byte holding elements
// 4k+i (low nibble) and 16+4k+i (high), are already where the tiles want them in their group.
void PackColumn(DType d, int rows, const uint8_t* const* blocks, uint8_t* out) {
  const int qs = d == DType::kQ8_0   ? kQ8_0Qs
                 : d == DType::kQ4_0 ? kQ4_0Qs
                 : d == DType::kQ4_1 ? kQ4_1Qs
                                     : kQ5_0Qs;
  const int registers = d == DType::kQ8_0 ? 8 : 4;
  const size_t register_bytes = 4 * static_cast<size_t>(rows);
  uint8_t* q = out + TileQuantsOffset(d, rows);
  for (int j = 0; j < rows; ++j) {
    const uint8_t* blk = blocks[j];
    std::memcpy(out + kTileScales + 2 * j, blk, 2);
    if (d == DType::kQ4_1) std::memcpy(out + TileMinsOffset(rows) + 2 * j, blk + kQ4_1M, 2);
    for (int k = 0; k < registers; ++k)
      std::memcpy(q + register_bytes * k + 4 * j, blk + qs + 4 * k, 4);
    if (d == DType::kQ5_0) {
      const uint32_t qh = LoadU32(blk + kQ5_0Qh);
      for (int i = 0; i < 4; ++i) {
        uint8_t bits = 0;
        for (int k = 0; k < 8; ++k) bits |= static_cast<uint8_t>(((qh >> (4 * k + i)) & 1) << k);
        out[TileHighBitsOffset(rows) + 4 * j + i] = bits;
      }
    }
  }
}

void PackTiles(MatLayout layout, MatRef& w, void* bytes) {
  // Rows of no blocks have nothing to rearrange (and no bytes to copy); the K-quants' products
  // read their super-blocks as stored.
  if (DTypeBlockElems(w.dtype) != kQBlock || w.layout != MatLayout::kRows || w.cols == 0) return;
  const int rows = TileRows(layout);
  const size_t row_bytes = DTypeRowBytes(w.dtype, w.cols);
  const size_t block_bytes = DTypeBlockBytes(w.dtype);
  const int64_t blocks = w.cols / kQBlock;
  const size_t group_bytes = rows * row_bytes;
  auto* base = static_cast<uint8_t*>(bytes);
  KernelPool().ParallelFor(w.rows / rows, 16, [&](int64_t begin, int64_t end) {
    std::vector<uint8_t> stored(group_bytes);
    std::vector<const uint8_t*> column(static_cast<size_t>(rows));
    for (int64_t g = begin; g < end; ++g) {
      uint8_t* group = base + static_cast<size_t>(g) * group_bytes;
      std::memcpy(stored.data(), group, group_bytes);
      for (int64_t b = 0; b < blocks; ++b) {
        for (int j = 0; j < rows; ++j)
          column[j] = stored.data() + j * row_bytes + static_cast<size_t>(b) * block_bytes;
        PackColumn(w.dtype, rows, column.data(),
                   group + static_cast<size_t>(b) * rows * block_bytes);
      }
    }
  });
  w.layout = layout;
}

}  // namespace

void PackTiles8(MatRef& w, void* bytes) { PackTiles(MatLayout::kTiles8, w, bytes); }

void PackTiles16(MatRef& w, void* bytes) { PackTiles(MatLayout::kTiles16, w, bytes); }

}  // namespace anser
