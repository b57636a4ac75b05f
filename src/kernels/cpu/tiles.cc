#include "kernels/cpu/tiles.h"

#include <cstdint>
#include <cstring>
#include <vector>

#include "core/thread_pool.h"
#include "kernels/quant_blocks.h"

namespace anser {
namespace {

// The q5_0 tile high-bit bytes (tiles.h) of one row: byte i, bit k = bit 4 of element 4k + i,
// with bit(e) giving element e's bit 4.
template <class Bit>
void PackHighBits(Bit bit, uint8_t* out) {
  for (int i = 0; i < 4; ++i) {
    uint8_t bits = 0;
    for (int k = 0; k < 8; ++k) bits |= static_cast<uint8_t>(bit(4 * k + i) << k);
    out[i] = bits;
  }
}

// One block column of `rows` rows: `blocks[j]` is row j's stored block. Every quant field moves
// as 4-byte groups: element 4k+i of q8_0, and for the nibble types the byte holding elements
// 4k+i (low nibble) and 16+4k+i (high), are already where the tiles want them in their group.
void PackColumn(DType d, int rows, const uint8_t* const* blocks, uint8_t* out) {
  const int qs = d == DType::kQ8_0     ? kQ8_0Qs
                 : d == DType::kQ4_0   ? kQ4_0Qs
                 : d == DType::kQ4_1   ? kQ4_1Qs
                 : d == DType::kQ5_1   ? kQ5_1Qs
                 : d == DType::kIQ4_NL ? kIQ4_NLQs
                                       : kQ5_0Qs;
  const int registers = d == DType::kQ8_0 ? 8 : 4;
  const size_t register_bytes = 4 * static_cast<size_t>(rows);
  uint8_t* q = out + TileQuantsOffset(d, rows);
  for (int j = 0; j < rows; ++j) {
    const uint8_t* blk = blocks[j];
    std::memcpy(out + kTileScales + 2 * j, blk, 2);
    if (d == DType::kQ4_1 || d == DType::kQ5_1)
      std::memcpy(out + TileMinsOffset(rows) + 2 * j, blk + kQ4_1M, 2);  // kQ4_1M == kQ5_1M
    for (int k = 0; k < registers; ++k)
      std::memcpy(q + register_bytes * k + 4 * j, blk + qs + 4 * k, 4);
    if (d == DType::kQ5_0 || d == DType::kQ5_1) {
      const uint32_t qh = LoadU32(blk + (d == DType::kQ5_0 ? kQ5_0Qh : kQ5_1Qh));
      PackHighBits([&](int e) { return static_cast<int>((qh >> e) & 1); },
                   out + TileHighBitsOffset(d, rows) + 4 * j);
    }
  }
}

// One q4_K or q5_K super-block column of `rows` rows (tiles.h).
void PackQ45KColumn(DType d, int rows, const uint8_t* const* blocks, uint8_t* out) {
  const auto r_count = static_cast<size_t>(rows);
  const bool q5 = d == DType::kQ5_K;
  for (int r = 0; r < rows; ++r) {
    const uint8_t* blk = blocks[r];
    std::memcpy(out + 2 * r, blk, 2);
    std::memcpy(out + 2 * r_count + 2 * r, blk + kQ4_KDmin, 2);
    int m[8];
    for (int j = 0; j < 8; ++j) {
      int sc = 0;
      KScaleMin(blk + kQ4_KScales, j, &sc, &m[j]);
      out[TileQ4KScalesOffset(rows) + j * r_count + r] = static_cast<uint8_t>(sc | (m[j] & 3) << 6);
      uint8_t* q = out + TileQ4KQuantsOffset(d, rows, j);
      const uint8_t* qs = blk + (q5 ? kQ5_KQs : kQ4_KQs) + 32 * (j / 2);
      const int shift = 4 * (j % 2);
      for (int k = 0; k < 4; ++k) {
        for (int i = 0; i < 4; ++i) {
          const int lo = (qs[4 * k + i] >> shift) & 0xF, hi = (qs[16 + 4 * k + i] >> shift) & 0xF;
          q[4 * r_count * k + 4 * r + i] = static_cast<uint8_t>(lo | hi << 4);
        }
      }
      if (q5) {
        const uint8_t* qh = blk + kQ5_KQh;
        PackHighBits([&](int e) { return (qh[e] >> j) & 1; }, q + 16 * r_count + 4 * r);
      }
    }
    for (int j = 0; j < 8; j += 2) {
      out[TileQ4KMinsOffset(rows) + (j / 2) * r_count + r] =
          static_cast<uint8_t>((m[j] >> 2) | (m[j + 1] >> 2) << 4);
    }
  }
}

// Row r's quants of one 32-element block at `qs` (nibbles as q4_0's) as tile registers at `q`
// (tiles.h): its 16 bytes move as 4-byte groups.
void PackNibbleBlock(size_t rows, size_t r, const uint8_t* qs, uint8_t* q) {
  for (size_t k = 0; k < 4; ++k) std::memcpy(q + 4 * rows * k + 4 * r, qs + 4 * k, 4);
}

// One iq4_xs super-block column of `rows` rows (tiles.h).
void PackIq4XsColumn(int rows, const uint8_t* const* blocks, uint8_t* out) {
  const auto r_count = static_cast<size_t>(rows);
  for (int r = 0; r < rows; ++r) {
    const uint8_t* blk = blocks[r];
    std::memcpy(out + 2 * r, blk, 2);
    int ls[8];
    for (int j = 0; j < 8; ++j) ls[j] = Iq4XsScale(blk, j);
    for (int j = 0; j < 4; ++j) {
      out[TileIq4XsScalesOffset(rows) + j * r_count + r] =
          static_cast<uint8_t>(ls[j] | (ls[j + 4] & 3) << 6);
    }
    for (int i = 0; i < 2; ++i) {
      out[TileIq4XsHighScalesOffset(rows) + i * r_count + r] =
          static_cast<uint8_t>((ls[4 + 2 * i] >> 2) | (ls[5 + 2 * i] >> 2) << 4);
    }
    for (int j = 0; j < 8; ++j) {
      PackNibbleBlock(r_count, static_cast<size_t>(r), blk + kIQ4_XSQs + 16 * j,
                      out + TileIq4XsQuantsOffset(rows, j));
    }
  }
}

// Element e (0…255) of a q6_K super-block as its unsigned 6-bit quant (quant_blocks.h).
int Q6KQuant(const uint8_t* blk, int e) {
  const int half = e / 128, k = (e % 128) / 32, l = e % 32;
  const int low = (blk[kQ6_KQl + 64 * half + 32 * (k % 2) + l] >> (4 * (k / 2))) & 0xF;
  const int high = (blk[kQ6_KQh + 32 * half + l] >> (2 * k)) & 3;
  return low | high << 4;
}

// One q6_K super-block column of `rows` rows (tiles.h).
void PackQ6KColumn(int rows, const uint8_t* const* blocks, uint8_t* out) {
  const auto r_count = static_cast<size_t>(rows);
  for (int r = 0; r < rows; ++r) {
    const uint8_t* blk = blocks[r];
    std::memcpy(out + 2 * r, blk + kQ6_KD, 2);
    for (int g = 0; g < 16; ++g)
      out[TileQ6KScalesOffset(rows) + g * r_count + r] = blk[kQ6_KScales + g];
    for (int j = 0; j < 8; ++j) {
      uint8_t* q = out + TileQ6KQuantsOffset(rows, j);
      for (int k = 0; k < 4; ++k) {
        for (int i = 0; i < 4; ++i) {
          const int lo = Q6KQuant(blk, 32 * j + 4 * k + i) & 0xF;
          const int hi = Q6KQuant(blk, 32 * j + 16 + 4 * k + i) & 0xF;
          q[4 * r_count * k + 4 * r + i] = static_cast<uint8_t>(lo | hi << 4);
        }
      }
      for (int m = 0; m < 2; ++m) {
        for (int i = 0; i < 4; ++i) {
          int bits = 0;
          for (int k = 4 * m; k < 4 * m + 4; ++k)
            bits |= (Q6KQuant(blk, 32 * j + 4 * k + i) >> 4) << (2 * (k - 4 * m));
          q[16 * r_count + 4 * r_count * m + 4 * r + i] = static_cast<uint8_t>(bits);
        }
      }
    }
  }
}

void PackTiles(MatLayout layout, MatRef& w, void* bytes) {
  // Rows of no blocks have nothing to rearrange (and no bytes to copy).
  if (!DTypeIsBlock(w.dtype) || w.layout != MatLayout::kRows || w.cols == 0) return;
  const int rows = TileRows(layout);
  const size_t row_bytes = DTypeRowBytes(w.dtype, w.cols);
  const size_t block_bytes = DTypeBlockBytes(w.dtype);
  const int64_t blocks = w.cols / DTypeBlockElems(w.dtype);
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
        uint8_t* out = group + static_cast<size_t>(b) * rows * block_bytes;
        if (w.dtype == DType::kQ4_K || w.dtype == DType::kQ5_K) {
          PackQ45KColumn(w.dtype, rows, column.data(), out);
        } else if (w.dtype == DType::kQ6_K) {
          PackQ6KColumn(rows, column.data(), out);
        } else if (w.dtype == DType::kIQ4_XS) {
          PackIq4XsColumn(rows, column.data(), out);
        } else {
          PackColumn(w.dtype, rows, column.data(), out);
        }
      }
    }
  });
  w.layout = layout;
}

}  // namespace

void PackTiles8(MatRef& w, void* bytes) { PackTiles(MatLayout::kTiles8, w, bytes); }

void PackTiles16(MatRef& w, void* bytes) { PackTiles(MatLayout::kTiles16, w, bytes); }

}  // namespace anser
