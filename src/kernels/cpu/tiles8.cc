#include "kernels/cpu/tiles8.h"

#include <cstdint>
#include <cstring>
#include <vector>

#include "core/thread_pool.h"
#include "kernels/quant_blocks.h"

namespace anser {
namespace {

// Quant e (0…31) of one stored block, without its offset: signed for q8_0, else 0…31.
int Quant(DType d, const uint8_t* blk, int e) {
  if (d == DType::kQ8_0) return static_cast<int8_t>(blk[kQ8_0Qs + e]);
  const int qs = d == DType::kQ4_0 ? kQ4_0Qs : d == DType::kQ4_1 ? kQ4_1Qs : kQ5_0Qs;
  int q = e < 16 ? blk[qs + e] & 0x0f : blk[qs + e - 16] >> 4;
  if (d == DType::kQ5_0) q |= static_cast<int>((LoadU32(blk + kQ5_0Qh) >> e) & 1) << 4;
  return q;
}

// One block column of eight rows: `blocks[j]` is row j's stored block.
void PackColumn(DType d, const uint8_t* const* blocks, uint8_t* out) {
  for (int j = 0; j < kTileRows; ++j) {
    std::memcpy(out + kTileScales + 2 * j, blocks[j], 2);
    if (d == DType::kQ4_1) std::memcpy(out + kTileMins + 2 * j, blocks[j] + kQ4_1M, 2);
  }
  uint8_t* q = out + TileQuantsOffset(d);
  for (int j = 0; j < kTileRows; ++j) {
    for (int i = 0; i < 4; ++i) {
      const uint8_t* blk = blocks[j];
      if (d == DType::kQ8_0) {
        for (int k = 0; k < 8; ++k) q[32 * k + 4 * j + i] = static_cast<uint8_t>(Quant(d, blk, 4 * k + i));
        continue;
      }
      for (int k = 0; k < 4; ++k) {
        q[32 * k + 4 * j + i] = static_cast<uint8_t>((Quant(d, blk, 4 * k + i) & 0x0f) |
                                                     (Quant(d, blk, 16 + 4 * k + i) & 0x0f) << 4);
      }
      if (d == DType::kQ5_0) {
        uint8_t bits = 0;
        for (int k = 0; k < 8; ++k) bits |= static_cast<uint8_t>((Quant(d, blk, 4 * k + i) >> 4) << k);
        out[kTileHighBits + 4 * j + i] = bits;
      }
    }
  }
}

}  // namespace

void PackTiles8(MatRef& w, void* bytes) {
  if (!DTypeIsBlock(w.dtype) || w.layout != MatLayout::kRows) return;
  const size_t row_bytes = DTypeRowBytes(w.dtype, w.cols);
  const size_t block_bytes = DTypeBlockBytes(w.dtype);
  const int64_t blocks = w.cols / kQBlock;
  const size_t group_bytes = kTileRows * row_bytes;
  auto* base = static_cast<uint8_t*>(bytes);
  KernelPool().ParallelFor(w.rows / kTileRows, 16, [&](int64_t begin, int64_t end) {
    std::vector<uint8_t> stored(group_bytes);
    for (int64_t g = begin; g < end; ++g) {
      uint8_t* group = base + static_cast<size_t>(g) * group_bytes;
      std::memcpy(stored.data(), group, group_bytes);
      for (int64_t b = 0; b < blocks; ++b) {
        const uint8_t* column[kTileRows];
        for (int j = 0; j < kTileRows; ++j) column[j] = stored.data() + j * row_bytes + static_cast<size_t>(b) * block_bytes;
        PackColumn(w.dtype, column, group + static_cast<size_t>(b) * kTileRows * block_bytes);
      }
    }
  });
  w.layout = MatLayout::kTiles8;
}

}  // namespace anser
