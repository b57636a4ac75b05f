#include "core/dtype.h"

#include <cmath>

namespace anser {

std::string_view DTypeName(DType dtype) {
  switch (dtype) {
    case DType::kF32: return "f32";
    case DType::kF16: return "f16";
    case DType::kBF16: return "bf16";
    case DType::kI64: return "i64";
    case DType::kI32: return "i32";
    case DType::kU8: return "u8";
    case DType::kQ8_0: return "q8_0";
    case DType::kQ4_0: return "q4_0";
    case DType::kQ4_1: return "q4_1";
    case DType::kQ5_0: return "q5_0";
    case DType::kQ4_K: return "q4_K";
    case DType::kQ6_K: return "q6_K";
    case DType::kQ5_K: return "q5_K";
    case DType::kIQ4_NL: return "iq4_nl";
    case DType::kIQ4_XS: return "iq4_xs";
    case DType::kQ5_1: return "q5_1";
    case DType::kQ3_K: return "q3_K";
    case DType::kQ2_K: return "q2_K";
  }
  return "?";
}

size_t DTypeSize(DType dtype) {
  switch (dtype) {
    case DType::kF32: return 4;
    case DType::kF16: return 2;
    case DType::kBF16: return 2;
    case DType::kI64: return 8;
    case DType::kI32: return 4;
    case DType::kU8: return 1;
    case DType::kQ8_0:
    case DType::kQ4_0:
    case DType::kQ4_1:
    case DType::kQ5_0:
    case DType::kQ4_K:
    case DType::kQ6_K:
    case DType::kQ5_K:
    case DType::kIQ4_NL:
    case DType::kIQ4_XS:
    case DType::kQ5_1:
    case DType::kQ3_K:
    case DType::kQ2_K: return 0;
  }
  return 0;
}

int64_t DTypeBlockElems(DType dtype) {
  switch (dtype) {
    case DType::kQ8_0:
    case DType::kQ4_0:
    case DType::kQ4_1:
    case DType::kQ5_0:
    case DType::kIQ4_NL:
    case DType::kQ5_1: return 32;
    case DType::kQ4_K:
    case DType::kQ6_K:
    case DType::kQ5_K:
    case DType::kIQ4_XS:
    case DType::kQ3_K:
    case DType::kQ2_K: return 256;
    default: return 1;
  }
}

size_t DTypeBlockBytes(DType dtype) {
  switch (dtype) {
    case DType::kQ8_0: return 2 + 32;
    case DType::kQ4_0: return 2 + 16;
    case DType::kQ4_1: return 2 + 2 + 16;
    case DType::kQ5_0: return 2 + 4 + 16;
    case DType::kQ4_K: return 2 + 2 + 12 + 128;
    case DType::kQ6_K: return 128 + 64 + 16 + 2;
    case DType::kQ5_K: return 2 + 2 + 12 + 32 + 128;
    case DType::kIQ4_NL: return 2 + 16;
    case DType::kIQ4_XS: return 2 + 2 + 4 + 128;
    case DType::kQ5_1: return 2 + 2 + 4 + 16;
    case DType::kQ3_K: return 32 + 64 + 12 + 2;
    case DType::kQ2_K: return 16 + 64 + 2 + 2;
    default: return DTypeSize(dtype);
  }
}

size_t DTypeRowBytes(DType dtype, int64_t cols) {
  return static_cast<size_t>(cols / DTypeBlockElems(dtype)) * DTypeBlockBytes(dtype);
}

float F16ToF32(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  const uint32_t exp = (h >> 10) & 0x1fu;
  const uint32_t mant = h & 0x3ffu;
  uint32_t bits;
  if (exp == 0) {
    if (mant == 0) {
      bits = sign;
    } else {  // subnormal: value = mant * 2^-24
      float f = std::ldexp(static_cast<float>(mant), -24);
      std::memcpy(&bits, &f, 4);
      bits |= sign;
    }
  } else if (exp == 31) {
    bits = sign | 0x7f800000u | (mant << 13);
  } else {
    bits = sign | ((exp + 112) << 23) | (mant << 13);
  }
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

uint16_t F32ToF16(float f) {
  uint32_t bits;
  std::memcpy(&bits, &f, 4);
  const uint16_t sign = static_cast<uint16_t>((bits >> 16) & 0x8000u);
  const uint32_t abs = bits & 0x7fffffffu;
  if (abs > 0x7f800000u) return sign | 0x7e00u;          // NaN
  if (abs >= 0x477ff000u) return sign | 0x7c00u;         // overflow (after rounding) → inf
  if (abs < 0x38800000u) {                               // subnormal or zero in f16
    const float a = std::fabs(f);
    const float scaled = a * 16777216.0f;                // 2^24: units of the smallest subnormal
    return sign | static_cast<uint16_t>(std::nearbyint(scaled));
  }
  // Normal: round mantissa to nearest even at bit 13.
  uint32_t rounded = abs + 0xfffu + ((abs >> 13) & 1u);
  return sign | static_cast<uint16_t>((rounded - 0x38000000u) >> 13);
}

}  // namespace anser
