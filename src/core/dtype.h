// Stored number types and their scalar conversions to float32.
#pragma once

#include <cstdint>
#include <cstring>
#include <string_view>

namespace anser {

enum class DType : uint8_t { kF32, kF16, kBF16, kI64, kI32, kU8 };

std::string_view DTypeName(DType dtype);  // "f32", "f16", "bf16", …
size_t DTypeSize(DType dtype);            // bytes per element

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

}  // namespace anser
