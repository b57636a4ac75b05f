// Byte layouts of the GGML block-quantized types (see DType in core/dtype.h): accessors that
// read a block at any byte address, since rows of a mapped file need not be aligned.
#pragma once

#include <cstdint>
#include <cstring>

#include "core/dtype.h"

namespace anser {

inline constexpr int kQBlock = 32;   // elements per block of the 32-element block types
inline constexpr int kKBlock = 256;  // elements per super-block of the K-quants

inline uint16_t LoadU16(const uint8_t* p) {
  uint16_t v;
  std::memcpy(&v, p, 2);
  return v;
}

inline uint32_t LoadU32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

// Where the fields of one block start, relative to the block.
inline constexpr int kQ8_0Qs = 2;  // {f16 d; int8 qs[32]}
inline constexpr int kQ4_0Qs = 2;  // {f16 d; u8 qs[16]}
inline constexpr int kQ4_1M = 2;   // {f16 d; f16 m; u8 qs[16]}
inline constexpr int kQ4_1Qs = 4;
inline constexpr int kQ5_0Qh = 2;  // {f16 d; u8 qh[4]; u8 qs[16]}
inline constexpr int kQ5_0Qs = 6;
inline constexpr int kQ5_1M = 2;  // {f16 d; f16 m; u8 qh[4]; u8 qs[16]}
inline constexpr int kQ5_1Qh = 4;
inline constexpr int kQ5_1Qs = 8;
inline constexpr int kIQ4_NLQs = 2;  // {f16 d; u8 qs[16]}
// The 16 levels of iq4_nl and iq4_xs, ascending: a 4-bit code indexes them.
inline constexpr int8_t kIq4Levels[16] = {-127, -104, -83, -65, -49, -35, -22, -10,
                                          1,    13,   25,  38,  53,  69,  89,  113};
// {f16 d; f16 dmin; u8 scales[12]; u8 qs[128]}: sub-block j (32 elements) takes the low (j even)
// or high (j odd) nibbles of qs[32·(j / 2) …], in element order.
inline constexpr size_t kQ4_KBytes = 2 + 2 + 12 + 128;
inline constexpr int kQ4_KDmin = 2;
inline constexpr int kQ4_KScales = 4;
inline constexpr int kQ4_KQs = 16;
// {f16 d; f16 dmin; u8 scales[12]; u8 qh[32]; u8 qs[128]}: q4_K's fields, with bit j of qh[l]
// as bit 4 of element l of sub-block j.
inline constexpr size_t kQ5_KBytes = 2 + 2 + 12 + 32 + 128;
inline constexpr int kQ5_KQh = 16;
inline constexpr int kQ5_KQs = 48;
// {f16 d; u16 scales_h; u8 scales_l[4]; u8 qs[128]}: sub-block j (32 elements) takes its codes
// from qs[16·j …] as iq4_nl's block, its 6-bit scale ls from Iq4XsScale.
inline constexpr size_t kIQ4_XSBytes = 2 + 2 + 4 + 128;
inline constexpr int kIQ4_XSScalesH = 2;
inline constexpr int kIQ4_XSScalesL = 4;
inline constexpr int kIQ4_XSQs = 8;
// {u8 ql[128]; u8 qh[64]; i8 scales[16]; f16 d}: in each 128-half h, element 32·k + l (k 0..3)
// has the low (k < 2) or high nibble of ql[64·h + 32·(k % 2) + l] as bits 0..3 and bits 2k, 2k+1
// of qh[32·h + l] as bits 4, 5; scales[i / 16] scales element i.
inline constexpr size_t kQ6_KBytes = 128 + 64 + 16 + 2;
inline constexpr int kQ6_KQl = 0;
inline constexpr int kQ6_KQh = 128;
inline constexpr int kQ6_KScales = 192;
inline constexpr int kQ6_KD = 208;
// {u8 hmask[32]; u8 qs[64]; u8 scales[12]; f16 d}: quants as Q3KQuant, 6-bit scales (offset 32)
// of the 16-element groups as Q3KScale.
inline constexpr size_t kQ3_KBytes = 32 + 64 + 12 + 2;
inline constexpr int kQ3_KHmask = 0;
inline constexpr int kQ3_KQs = 32;
inline constexpr int kQ3_KScales = 96;
inline constexpr int kQ3_KD = 108;
// {u8 scales[16]; u8 qs[64]; f16 d; f16 dmin}: quants as K2BitQuant; scales[g] = sc | m << 4 of
// the 16-element group g.
inline constexpr size_t kQ2_KBytes = 16 + 64 + 2 + 2;
inline constexpr int kQ2_KScales = 0;
inline constexpr int kQ2_KQs = 16;
inline constexpr int kQ2_KD = 80;
inline constexpr int kQ2_KDmin = 82;

// The 6-bit scale and min of sub-block j (0..7) of a q4_K or q5_K super-block, from its 12
// scale bytes s: for j < 4 the low 6 bits of s[j] and s[j + 4]; for j ≥ 4 the nibbles of s[j + 4]
// with the top 2 bits of s[j − 4] and s[j] as bits 4, 5.
inline void KScaleMin(const uint8_t* s, int j, int* scale, int* min) {
  if (j < 4) {
    *scale = s[j] & 63;
    *min = s[j + 4] & 63;
  } else {
    *scale = (s[j + 4] & 0xF) | ((s[j - 4] >> 6) << 4);
    *min = (s[j + 4] >> 4) | ((s[j] >> 6) << 4);
  }
}

// The 6-bit scale ls (value = d·(ls − 32)·level) of sub-block j (0..7) of an iq4_xs super-block:
// nibble j of scales_l (little-endian) with bits 2j, 2j + 1 of scales_h as bits 4, 5.
inline int Iq4XsScale(const uint8_t* blk, int j) {
  const int low = (blk[kIQ4_XSScalesL + j / 2] >> (4 * (j % 2))) & 0xF;
  return low | ((LoadU16(blk + kIQ4_XSScalesH) >> (2 * j)) & 3) << 4;
}

// The 2 low bits of element e (0…255) of a q2_K or q3_K super-block from its 64 quant bytes qs:
// element 32·k + l of 128-half h (k 0…3) has bits 2k, 2k + 1 of qs[32·h + l].
inline int K2BitQuant(const uint8_t* qs, int e) {
  return (qs[32 * (e / 128) + e % 32] >> (2 * (e % 128 / 32))) & 3;
}

// Bit e / 32 of hmask[e % 32]: the high bit of element e of a q3_K super-block.
inline int Q3KHighBit(const uint8_t* blk, int e) {
  return (blk[kQ3_KHmask + e % 32] >> (e / 32)) & 1;
}

// Element e of a q3_K super-block, −4…3: its low bits, less 4 where the high bit is clear.
inline int Q3KQuant(const uint8_t* blk, int e) {
  return K2BitQuant(blk + kQ3_KQs, e) - 4 * (1 - Q3KHighBit(blk, e));
}

// The 6-bit scale (offset 32) of group g (0…15) of a q3_K super-block, from its 12 scale bytes s:
// nibble g of s[0…8) (low nibbles first) with bits 2(g / 4), +1 of s[8 + g % 4] as bits 4, 5.
inline int Q3KScale(const uint8_t* s, int g) {
  return ((s[g % 8] >> (4 * (g / 8))) & 0xF) | ((s[8 + g % 4] >> (2 * (g / 4))) & 3) << 4;
}

}  // namespace anser
