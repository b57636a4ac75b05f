// Stored number types and their scalar conversions to float32.
#pragma once

#include <cstdint>
#include <cstring>
#include <string_view>

namespace anser {

enum class DType : uint8_t {
  kF32, kF16, kBF16, kI64, kI32, kU8,
  // Block-quantized types with the GGML layouts: blocks of 32 consecutive elements of a row
  // (the K-quants: super-blocks of 256; field offsets and accessors in kernels/quant_blocks.h).
  kQ8_0,  // {f16 d; int8 qs[32]}: value = q·d
  kQ4_0,  // {f16 d; u8 qs[16]}: low nibbles are elements 0..15, high 16..31; value = (q − 8)·d
  kQ4_1,  // {f16 d; f16 m; u8 qs[16]}: nibbles as q4_0; value = q·d + m
  kQ5_0,  // {f16 d; u8 qh[4]; u8 qs[16]}: bit j of qh (little-endian u32) is bit 4 of element j;
          // value = (q − 16)·d
  kQ4_K,  // {f16 d; f16 dmin; u8 scales[12]; u8 qs[128]}: 8 sub-blocks of 32, each with a 6-bit
          // scale sc and min m; value = d·sc·q − dmin·m, q in 0..15
  kQ6_K,  // {u8 ql[128]; u8 qh[64]; i8 scales[16]; f16 d}: 16 groups of 16 with an int8 scale;
          // value = d·scale·(q − 32), q in 0..63
  kQ5_K,  // {f16 d; f16 dmin; u8 scales[12]; u8 qh[32]; u8 qs[128]}: q4_K with bit j of qh[l] as
          // bit 4 of element l of sub-block j; q in 0..31
  kIQ4_NL,  // {f16 d; u8 qs[16]}: nibbles as q4_0; value = d·kIq4Levels[q] (a fixed int8 table)
  kIQ4_XS,  // {f16 d; u16 scales_h; u8 scales_l[4]; u8 qs[128]}: 8 iq4_nl sub-blocks of 32 with a
            // 6-bit scale ls (offset 32); value = d·(ls − 32)·kIq4Levels[q]
  kQ5_1,    // {f16 d; f16 m; u8 qh[4]; u8 qs[16]}: quants as q5_0's; value = q·d + m
  kQ3_K,    // {u8 hmask[32]; u8 qs[64]; u8 scales[12]; f16 d}: 16 groups of 16 with a 6-bit scale
            // sc (offset 32); value = d·(sc − 32)·q, q in −4..3 (2 bits and a high bit)
  kQ2_K,    // {u8 scales[16]; u8 qs[64]; f16 d; f16 dmin}: 16 groups of 16 with a 4-bit scale sc
            // and min m; value = d·sc·q − dmin·m, q in 0..3
};

std::string_view DTypeName(DType dtype);  // "f32", "f16", "bf16", …
size_t DTypeSize(DType dtype);            // bytes per element; 0 for block types (see below)

inline float Bf16ToF32(uint16_t h) {
  uint32_t bits = static_cast<uint32_t>(h) << 16;
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

// Round to nearest even, as torch does; NaN stays NaN.
inline uint16_t F32ToBf16(float f) {
  uint32_t bits;
  std::memcpy(&bits, &f, 4);
  if ((bits & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((bits >> 16) | 0x40);
  bits += 0x7fffu + ((bits >> 16) & 1u);
  return static_cast<uint16_t>(bits >> 16);
}

float F16ToF32(uint16_t h);
uint16_t F32ToF16(float f);

// Elements per block: 32 for the block-quantized types (256 for the K-quants), 1 for the others.
int64_t DTypeBlockElems(DType dtype);
// Bytes of one block (of DTypeBlockElems elements).
size_t DTypeBlockBytes(DType dtype);
inline bool DTypeIsBlock(DType dtype) { return DTypeBlockElems(dtype) > 1; }
// Bytes of a row of `cols` elements; for block types `cols` must be a multiple of the block.
size_t DTypeRowBytes(DType dtype, int64_t cols);

}  // namespace anser
