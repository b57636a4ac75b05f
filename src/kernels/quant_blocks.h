// Byte layouts of the GGML block-quantized types (see DType in core/dtype.h): accessors that
// read a block at any byte address, since rows of a mapped file need not be aligned.
#pragma once

#include <cstdint>
#include <cstring>

#include "core/dtype.h"

namespace anser {

inline constexpr int kQBlock = 32;  // elements per block, for every block type

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

}  // namespace anser
