#include "kernels/cpu/tiles.h"

#include <cstdint>
#include <cstring>
#include <vector>

#include "core/thread_pool.h"
#include "kernels/quant_blocks.h"

namespace anser {
namespace {

// Where a 32-element block's quants start, and how many 4-byte registers of a tile they fill.
int BlockQuantsOffset(DType d) {
  return d == DType::kQ8_0     ? kQ8_0Qs
         : d == DType::kQ4_0   ? kQ4_0Qs
         : d == DType::kQ4_1   ? kQ4_1Qs
         : d == DType::kQ5_1   ? kQ5_1Qs
         : d == DType::kIQ4_NL ? kIQ4_NLQs
                               : kQ5_0Qs;
}
int TileQuantRegisters(DType d) { return d == DType::kQ8_0 ? 8 : 4; }

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
  const int qs = BlockQuantsOffset(d);
  const int registers = TileQuantRegisters(d);
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

// `count` 6-bit scales ls of row r as the tile scale bytes from `out` (tiles.h, iq4_xs and q3_K):
// bytes j·rows + r (j < count / 2) take ls_j with bits 0, 1 of ls_j+count/2 at bits 6, 7; bytes
// (count / 2 + i)·rows + r take the top 4 bits of ls_h+2i and ls_h+2i+1 (h = count / 2).
void PackSixBitScales(const int* ls, int count, size_t rows, size_t r, uint8_t* out) {
  const int half = count / 2;
  for (int j = 0; j < half; ++j)
    out[j * rows + r] = static_cast<uint8_t>(ls[j] | (ls[j + half] & 3) << 6);
  for (int i = 0; i < half / 2; ++i) {
    out[(half + i) * rows + r] =
        static_cast<uint8_t>((ls[half + 2 * i] >> 2) | (ls[half + 2 * i + 1] >> 2) << 4);
  }
}

// One iq4_xs super-block column of `rows` rows (tiles.h).
void PackIq4XsColumn(int rows, const uint8_t* const* blocks, uint8_t* out) {
  const auto r_count = static_cast<size_t>(rows);
  for (int r = 0; r < rows; ++r) {
    const uint8_t* blk = blocks[r];
    std::memcpy(out + 2 * r, blk, 2);
    int ls[8];
    for (int j = 0; j < 8; ++j) ls[j] = Iq4XsScale(blk, j);
    PackSixBitScales(ls, 8, r_count, static_cast<size_t>(r), out + TileIq4XsScalesOffset(rows));
    for (int j = 0; j < 8; ++j) {
      PackNibbleBlock(r_count, static_cast<size_t>(r), blk + kIQ4_XSQs + 16 * j,
                      out + TileIq4XsQuantsOffset(rows, j));
    }
  }
}

// Two bits of each of the 32 elements of row r's sub-block, bits(e) for element e, as the two
// 2-bit planes of a tile at `q` (tiles.h: q6_K's bits 4, 5, q2_K's and q3_K's low bits).
template <class Bits>
void PackTwoBitPlanes(Bits bits, size_t rows, size_t r, uint8_t* q) {
  for (int m = 0; m < 2; ++m) {
    for (int i = 0; i < 4; ++i) {
      int byte = 0;
      for (int k = 4 * m; k < 4 * m + 4; ++k) byte |= bits(4 * k + i) << (2 * (k - 4 * m));
      q[4 * rows * m + 4 * r + i] = static_cast<uint8_t>(byte);
    }
  }
}

// One q3_K or q2_K super-block column of `rows` rows (tiles.h).
void PackQ23KColumn(DType d, int rows, const uint8_t* const* blocks, uint8_t* out) {
  const auto r_count = static_cast<size_t>(rows);
  const bool q3 = d == DType::kQ3_K;
  for (int r = 0; r < rows; ++r) {
    const uint8_t* blk = blocks[r];
    const auto row = static_cast<size_t>(r);
    if (q3) {
      std::memcpy(out + 2 * r, blk + kQ3_KD, 2);
      int ls[16];
      for (int g = 0; g < 16; ++g) ls[g] = Q3KScale(blk + kQ3_KScales, g);
      PackSixBitScales(ls, 16, r_count, row, out + TileQ3KScalesOffset(rows));
    } else {
      std::memcpy(out + 2 * r, blk + kQ2_KD, 2);
      std::memcpy(out + 2 * r_count + 2 * r, blk + kQ2_KDmin, 2);
      for (int g = 0; g < 16; ++g)
        out[TileQ2KScalesOffset(rows) + g * r_count + r] = blk[kQ2_KScales + g];
    }
    const uint8_t* qs = blk + (q3 ? kQ3_KQs : kQ2_KQs);
    for (int j = 0; j < 8; ++j) {
      uint8_t* q = out + TileQ23KQuantsOffset(d, rows, j);
      PackTwoBitPlanes([&](int e) { return K2BitQuant(qs, 32 * j + e); }, r_count, row, q);
      if (q3)
        PackHighBits([&](int e) { return Q3KHighBit(blk, 32 * j + e); }, q + 8 * r_count + 4 * row);
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
      PackTwoBitPlanes([&](int e) { return Q6KQuant(blk, 32 * j + e) >> 4; }, r_count,
                       static_cast<size_t>(r), q + 16 * r_count);
    }
  }
}

// Element e's bit from row r's tile high-bit bytes at `bits` (the inverse of PackHighBits).
int TileHighBit(const uint8_t* bits, int e) { return (bits[e % 4] >> (e / 4)) & 1; }

// Element e's two bits from the two 2-bit planes at `q` holding row r of `rows` (the inverse of
// PackTwoBitPlanes).
int TwoBitPlaneBits(const uint8_t* q, size_t rows, size_t r, int e) {
  const int k = e / 4, i = e % 4;
  return (q[4 * rows * static_cast<size_t>(k / 4) + 4 * r + static_cast<size_t>(i)] >>
          (2 * (k % 4))) &
         3;
}

// The inverse of PackSixBitScales: row r's `count` scales into ls.
void UnpackSixBitScales(const uint8_t* in, int count, size_t rows, size_t r, int* ls) {
  const int half = count / 2;
  for (int j = 0; j < half; ++j) {
    const uint8_t packed = in[j * rows + r];
    const int high = in[(half + j / 2) * rows + r] >> (4 * (j % 2)) & 0xF;
    ls[j] = packed & 63;
    ls[half + j] = packed >> 6 | high << 2;
  }
}

// The inverse of PackColumn: the column `in` back into row j's stored block `blocks[j]`.
void UnpackColumn(DType d, int rows, const uint8_t* in, uint8_t* const* blocks) {
  const int qs = BlockQuantsOffset(d);
  const int registers = TileQuantRegisters(d);
  const size_t register_bytes = 4 * static_cast<size_t>(rows);
  const uint8_t* q = in + TileQuantsOffset(d, rows);
  for (int j = 0; j < rows; ++j) {
    uint8_t* blk = blocks[j];
    std::memcpy(blk, in + kTileScales + 2 * j, 2);
    if (d == DType::kQ4_1 || d == DType::kQ5_1)
      std::memcpy(blk + kQ4_1M, in + TileMinsOffset(rows) + 2 * j, 2);  // kQ4_1M == kQ5_1M
    for (int k = 0; k < registers; ++k)
      std::memcpy(blk + qs + 4 * k, q + register_bytes * k + 4 * j, 4);
    if (d == DType::kQ5_0 || d == DType::kQ5_1) {
      uint32_t qh = 0;
      for (int e = 0; e < 32; ++e) {
        qh |= static_cast<uint32_t>(TileHighBit(in + TileHighBitsOffset(d, rows) + 4 * j, e)) << e;
      }
      const int qh_offset = d == DType::kQ5_0 ? kQ5_0Qh : kQ5_1Qh;
      for (int b = 0; b < 4; ++b) blk[qh_offset + b] = static_cast<uint8_t>(qh >> (8 * b));
    }
  }
}

// The inverse of KScaleMin: eight 6-bit scales and mins into a q4_K block's 12 scale bytes.
void StoreKScalesMins(const int* scale, const int* min, uint8_t* s) {
  for (int j = 0; j < 4; ++j) {
    s[j] = static_cast<uint8_t>(scale[j] | (scale[j + 4] >> 4) << 6);
    s[j + 4] = static_cast<uint8_t>(min[j] | (min[j + 4] >> 4) << 6);
    s[j + 8] = static_cast<uint8_t>((scale[j + 4] & 0xF) | (min[j + 4] & 0xF) << 4);
  }
}

// The inverse of PackQ45KColumn.
void UnpackQ45KColumn(DType d, int rows, const uint8_t* in, uint8_t* const* blocks) {
  const auto r_count = static_cast<size_t>(rows);
  const bool q5 = d == DType::kQ5_K;
  for (int r = 0; r < rows; ++r) {
    uint8_t* blk = blocks[r];
    std::memcpy(blk, in + 2 * r, 2);
    std::memcpy(blk + kQ4_KDmin, in + 2 * r_count + 2 * r, 2);
    int sc[8], m[8];
    std::memset(blk + kQ4_KQs, 0, (q5 ? kQ5_KBytes : kQ4_KBytes) - kQ4_KQs);
    for (int j = 0; j < 8; ++j) {
      const uint8_t packed = in[TileQ4KScalesOffset(rows) + j * r_count + r];
      const int high = in[TileQ4KMinsOffset(rows) + (j / 2) * r_count + r] >> (4 * (j % 2)) & 0xF;
      sc[j] = packed & 63;
      m[j] = packed >> 6 | high << 2;
      const uint8_t* q = in + TileQ4KQuantsOffset(d, rows, j);
      uint8_t* qs = blk + (q5 ? kQ5_KQs : kQ4_KQs) + 32 * (j / 2);
      const int shift = 4 * (j % 2);
      for (int k = 0; k < 4; ++k) {
        for (int i = 0; i < 4; ++i) {
          const uint8_t both = q[4 * r_count * k + 4 * r + i];
          qs[4 * k + i] |= static_cast<uint8_t>((both & 0xF) << shift);
          qs[16 + 4 * k + i] |= static_cast<uint8_t>((both >> 4) << shift);
        }
      }
      for (int e = 0; q5 && e < 32; ++e) {
        blk[kQ5_KQh + e] |= static_cast<uint8_t>(TileHighBit(q + 16 * r_count + 4 * r, e) << j);
      }
    }
    StoreKScalesMins(sc, m, blk + kQ4_KScales);
  }
}

// Adds the unsigned 6-bit quant of element e to a q6_K super-block whose quants start at zero
// (the inverse of Q6KQuant).
void AddQ6KQuant(uint8_t* blk, int e, int quant) {
  const int half = e / 128, k = (e % 128) / 32, l = e % 32;
  blk[kQ6_KQl + 64 * half + 32 * (k % 2) + l] |=
      static_cast<uint8_t>((quant & 0xF) << (4 * (k / 2)));
  blk[kQ6_KQh + 32 * half + l] |= static_cast<uint8_t>((quant >> 4) << (2 * k));
}

// The inverse of PackQ6KColumn.
void UnpackQ6KColumn(int rows, const uint8_t* in, uint8_t* const* blocks) {
  const auto r_count = static_cast<size_t>(rows);
  for (int r = 0; r < rows; ++r) {
    uint8_t* blk = blocks[r];
    std::memset(blk, 0, kQ6_KScales);
    std::memcpy(blk + kQ6_KD, in + 2 * r, 2);
    for (int g = 0; g < 16; ++g)
      blk[kQ6_KScales + g] = in[TileQ6KScalesOffset(rows) + g * r_count + r];
    for (int j = 0; j < 8; ++j) {
      const uint8_t* q = in + TileQ6KQuantsOffset(rows, j);
      for (int k = 0; k < 8; ++k) {
        for (int i = 0; i < 4; ++i) {
          // Element 32j + 4k + i: its low bits in register k % 4 (the low nibble for k < 4),
          // its high bits in register 4 + k / 4.
          const uint8_t low = q[4 * r_count * (k % 4) + 4 * r + i] >> (4 * (k / 4)) & 0xF;
          const int high =
              TwoBitPlaneBits(q + 16 * r_count, r_count, static_cast<size_t>(r), 4 * k + i);
          AddQ6KQuant(blk, 32 * j + 4 * k + i, low | high << 4);
        }
      }
    }
  }
}

// The inverse of PackIq4XsColumn.
void UnpackIq4XsColumn(int rows, const uint8_t* in, uint8_t* const* blocks) {
  const auto r_count = static_cast<size_t>(rows);
  for (int r = 0; r < rows; ++r) {
    uint8_t* blk = blocks[r];
    std::memcpy(blk, in + 2 * r, 2);
    int ls[8];
    UnpackSixBitScales(in + TileIq4XsScalesOffset(rows), 8, r_count, static_cast<size_t>(r), ls);
    uint16_t high = 0;
    for (int j = 0; j < 8; ++j) high = static_cast<uint16_t>(high | (ls[j] >> 4) << (2 * j));
    std::memcpy(blk + kIQ4_XSScalesH, &high, 2);
    for (int i = 0; i < 4; ++i)
      blk[kIQ4_XSScalesL + i] =
          static_cast<uint8_t>((ls[2 * i] & 0xF) | (ls[2 * i + 1] & 0xF) << 4);
    for (int j = 0; j < 8; ++j) {
      const uint8_t* q = in + TileIq4XsQuantsOffset(rows, j);
      for (size_t k = 0; k < 4; ++k)
        std::memcpy(blk + kIQ4_XSQs + 16 * j + 4 * k, q + 4 * r_count * k + 4 * r, 4);
    }
  }
}

// The inverse of PackQ23KColumn.
void UnpackQ23KColumn(DType d, int rows, const uint8_t* in, uint8_t* const* blocks) {
  const auto r_count = static_cast<size_t>(rows);
  const bool q3 = d == DType::kQ3_K;
  for (int r = 0; r < rows; ++r) {
    uint8_t* blk = blocks[r];
    const auto row = static_cast<size_t>(r);
    std::memset(blk, 0, DTypeBlockBytes(d));
    if (q3) {
      std::memcpy(blk + kQ3_KD, in + 2 * r, 2);
      int ls[16];
      UnpackSixBitScales(in + TileQ3KScalesOffset(rows), 16, r_count, row, ls);
      for (int g = 0; g < 16; ++g) {
        blk[kQ3_KScales + g % 8] |= static_cast<uint8_t>((ls[g] & 0xF) << (4 * (g / 8)));
        blk[kQ3_KScales + 8 + g % 4] |= static_cast<uint8_t>((ls[g] >> 4) << (2 * (g / 4)));
      }
    } else {
      std::memcpy(blk + kQ2_KD, in + 2 * r, 2);
      std::memcpy(blk + kQ2_KDmin, in + 2 * r_count + 2 * r, 2);
      for (int g = 0; g < 16; ++g)
        blk[kQ2_KScales + g] = in[TileQ2KScalesOffset(rows) + g * r_count + r];
    }
    uint8_t* qs = blk + (q3 ? kQ3_KQs : kQ2_KQs);
    for (int j = 0; j < 8; ++j) {
      const uint8_t* q = in + TileQ23KQuantsOffset(d, rows, j);
      for (int l = 0; l < 32; ++l) {
        const int e = 32 * j + l;
        qs[32 * (e / 128) + e % 32] |=
            static_cast<uint8_t>(TwoBitPlaneBits(q, r_count, row, l) << (2 * (e % 128 / 32)));
        if (q3) {
          blk[kQ3_KHmask + e % 32] |=
              static_cast<uint8_t>(TileHighBit(q + 8 * r_count + 4 * row, l) << (e / 32));
        }
      }
    }
  }
}

// Calls convert(copy, group) for every whole group of `rows` rows of w: `copy` holds the group's
// bytes as they were, `group` is where they go, as stored rows (w.layout kRows) or as a tile.
template <typename Convert>
void ForEachGroup(const MatRef& w, void* bytes, int rows, const Convert& convert) {
  const size_t group_bytes = rows * DTypeRowBytes(w.dtype, w.cols);
  auto* base = static_cast<uint8_t*>(bytes);
  KernelPool().ParallelFor(w.rows / rows, 16, [&](int64_t begin, int64_t end) {
    std::vector<uint8_t> copy(group_bytes);
    for (int64_t g = begin; g < end; ++g) {
      uint8_t* group = base + static_cast<size_t>(g) * group_bytes;
      std::memcpy(copy.data(), group, group_bytes);
      convert(copy.data(), group);
    }
  });
}

void PackTiles(MatLayout layout, MatRef& w, void* bytes) {
  // Rows of no blocks have nothing to rearrange (and no bytes to copy).
  if (!DTypeIsBlock(w.dtype) || w.layout != MatLayout::kRows || w.cols == 0) return;
  const int rows = TileRows(layout);
  const size_t row_bytes = DTypeRowBytes(w.dtype, w.cols);
  const size_t block_bytes = DTypeBlockBytes(w.dtype);
  const int64_t blocks = w.cols / DTypeBlockElems(w.dtype);
  ForEachGroup(w, bytes, rows, [&](uint8_t* stored, uint8_t* group) {
    const uint8_t* column[kMaxTileRows];
    for (int64_t b = 0; b < blocks; ++b) {
      for (int j = 0; j < rows; ++j)
        column[j] = stored + j * row_bytes + static_cast<size_t>(b) * block_bytes;
      uint8_t* out = group + static_cast<size_t>(b) * rows * block_bytes;
      if (w.dtype == DType::kQ4_K || w.dtype == DType::kQ5_K) {
        PackQ45KColumn(w.dtype, rows, column, out);
      } else if (w.dtype == DType::kQ6_K) {
        PackQ6KColumn(rows, column, out);
      } else if (w.dtype == DType::kIQ4_XS) {
        PackIq4XsColumn(rows, column, out);
      } else if (w.dtype == DType::kQ3_K || w.dtype == DType::kQ2_K) {
        PackQ23KColumn(w.dtype, rows, column, out);
      } else {
        PackColumn(w.dtype, rows, column, out);
      }
    }
  });
  w.layout = layout;
}

}  // namespace

void PackTiles8(MatRef& w, void* bytes) { PackTiles(MatLayout::kTiles8, w, bytes); }

void UnpackMatrix(MatRef& w, void* bytes) {
  if (w.layout == MatLayout::kRows) return;
  const int rows = TileRows(w.layout);
  const size_t row_bytes = DTypeRowBytes(w.dtype, w.cols);
  const size_t block_bytes = DTypeBlockBytes(w.dtype);
  const int64_t blocks = w.cols / DTypeBlockElems(w.dtype);
  ForEachGroup(w, bytes, rows, [&](uint8_t* tiles, uint8_t* group) {
    uint8_t* column[kMaxTileRows];
    for (int64_t b = 0; b < blocks; ++b) {
      for (int j = 0; j < rows; ++j)
        column[j] = group + j * row_bytes + static_cast<size_t>(b) * block_bytes;
      const uint8_t* in = tiles + static_cast<size_t>(b) * rows * block_bytes;
      if (w.dtype == DType::kQ4_K || w.dtype == DType::kQ5_K) {
        UnpackQ45KColumn(w.dtype, rows, in, column);
      } else if (w.dtype == DType::kQ6_K) {
        UnpackQ6KColumn(rows, in, column);
      } else if (w.dtype == DType::kIQ4_XS) {
        UnpackIq4XsColumn(rows, in, column);
      } else if (w.dtype == DType::kQ3_K || w.dtype == DType::kQ2_K) {
        UnpackQ23KColumn(w.dtype, rows, in, column);
      } else {
        UnpackColumn(w.dtype, rows, in, column);
      }
    }
  });
  w.layout = MatLayout::kRows;
}

void PackTiles16(MatRef& w, void* bytes) { PackTiles(MatLayout::kTiles16, w, bytes); }

}  // namespace anser
