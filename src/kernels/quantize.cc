#include "kernels/quantize.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/check.h"
#include "kernels/ggml_dequant.h"
#include "kernels/ggml_quantize.h"
#include "kernels/quant_blocks.h"

namespace anser {
namespace {

// The element of largest magnitude, with its sign (the first one on ties).
float SignedAbsMax(const float* x) {
  float amax = 0.0f, max = 0.0f;
  for (int j = 0; j < kQBlock; ++j) {
    if (std::fabs(x[j]) > amax) {
      amax = std::fabs(x[j]);
      max = x[j];
    }
  }
  return max;
}

void QuantizeQ8_0(const float* x, uint8_t* b) {
  float amax = 0.0f;
  for (int j = 0; j < kQBlock; ++j) amax = std::max(amax, std::fabs(x[j]));
  const float d = amax / 127.0f;
  const float id = d != 0.0f ? 1.0f / d : 0.0f;
  const uint16_t dh = F32ToF16(d);
  std::memcpy(b, &dh, 2);
  for (int j = 0; j < kQBlock; ++j) {
    const auto q = static_cast<int8_t>(std::round(x[j] * id));
    std::memcpy(b + kQ8_0Qs + j, &q, 1);
  }
}

// GGML's rounding: x·id + offset is ≥ 0, so truncation with offset = centre + 0.5 rounds to
// nearest; min() folds the extreme element (which lands on top + 1) back into range.
uint8_t Nibble(float x, float id, float offset, int top) {
  return static_cast<uint8_t>(std::min(top, static_cast<int>(x * id + offset)));
}

void QuantizeQ4_0(const float* x, uint8_t* b) {
  const float d = SignedAbsMax(x) / -8.0f;
  const float id = d != 0.0f ? 1.0f / d : 0.0f;
  const uint16_t dh = F32ToF16(d);
  std::memcpy(b, &dh, 2);
  for (int j = 0; j < kQBlock / 2; ++j) {
    b[kQ4_0Qs + j] = static_cast<uint8_t>(Nibble(x[j], id, 8.5f, 15) |
                                          (Nibble(x[j + 16], id, 8.5f, 15) << 4));
  }
}

void QuantizeQ4_1(const float* x, uint8_t* b) {
  const auto [lo, hi] = std::minmax_element(x, x + kQBlock);
  const float min = *lo;
  const float d = (*hi - min) / 15.0f;
  const float id = d != 0.0f ? 1.0f / d : 0.0f;
  const uint16_t dh = F32ToF16(d), mh = F32ToF16(min);
  std::memcpy(b, &dh, 2);
  std::memcpy(b + kQ4_1M, &mh, 2);
  for (int j = 0; j < kQBlock / 2; ++j) {
    b[kQ4_1Qs + j] = static_cast<uint8_t>(Nibble(x[j] - min, id, 0.5f, 15) |
                                          (Nibble(x[j + 16] - min, id, 0.5f, 15) << 4));
  }
}

void QuantizeQ5_0(const float* x, uint8_t* b) {
  const float d = SignedAbsMax(x) / -16.0f;
  const float id = d != 0.0f ? 1.0f / d : 0.0f;
  const uint16_t dh = F32ToF16(d);
  std::memcpy(b, &dh, 2);
  uint32_t qh = 0;
  for (int j = 0; j < kQBlock / 2; ++j) {
    const uint8_t q0 = Nibble(x[j], id, 16.5f, 31), q1 = Nibble(x[j + 16], id, 16.5f, 31);
    b[kQ5_0Qs + j] = static_cast<uint8_t>((q0 & 0x0f) | ((q1 & 0x0f) << 4));
    qh |= static_cast<uint32_t>(q0 >> 4) << j;
    qh |= static_cast<uint32_t>(q1 >> 4) << (j + 16);
  }
  std::memcpy(b + kQ5_0Qh, &qh, 4);
}

void DequantizeBlock(DType dtype, const uint8_t* b, float* y) {
  const float d = F16ToF32(LoadU16(b));
  switch (dtype) {
    case DType::kQ8_0:
      for (int j = 0; j < kQBlock; ++j) {
        int8_t q;
        std::memcpy(&q, b + kQ8_0Qs + j, 1);
        y[j] = q * d;
      }
      break;
    case DType::kQ4_0:
      for (int j = 0; j < kQBlock / 2; ++j) {
        y[j] = ((b[kQ4_0Qs + j] & 0x0f) - 8) * d;
        y[j + 16] = ((b[kQ4_0Qs + j] >> 4) - 8) * d;
      }
      break;
    case DType::kQ4_1: {
      const float m = F16ToF32(LoadU16(b + kQ4_1M));
      for (int j = 0; j < kQBlock / 2; ++j) {
        y[j] = (b[kQ4_1Qs + j] & 0x0f) * d + m;
        y[j + 16] = (b[kQ4_1Qs + j] >> 4) * d + m;
      }
      break;
    }
    case DType::kQ5_0: {
      const uint32_t qh = LoadU32(b + kQ5_0Qh);
      for (int j = 0; j < kQBlock / 2; ++j) {
        const int q0 = (b[kQ5_0Qs + j] & 0x0f) | static_cast<int>(((qh >> j) & 1u) << 4);
        const int q1 = (b[kQ5_0Qs + j] >> 4) | static_cast<int>(((qh >> (j + 16)) & 1u) << 4);
        y[j] = (q0 - 16) * d;
        y[j + 16] = (q1 - 16) * d;
      }
      break;
    }
    default: ANSER_CHECK(false, "DequantizeBlock: not a block type");
  }
}

}  // namespace

void QuantizeRow(DType dtype, const float* x, int64_t cols, void* out) {
  if (cols == 0) return;  // an empty row may come with null pointers
  auto* o = static_cast<uint8_t*>(out);
  switch (dtype) {
    case DType::kF32: std::memcpy(o, x, static_cast<size_t>(cols) * 4); return;
    case DType::kF16:
    case DType::kBF16:
      for (int64_t i = 0; i < cols; ++i) {
        const uint16_t h = dtype == DType::kF16 ? F32ToF16(x[i]) : F32ToBf16(x[i]);
        std::memcpy(o + 2 * i, &h, 2);
      }
      return;
    default: break;
  }
  if (const std::optional<uint32_t> ggml = GgmlNativeType(dtype)) {
    ANSER_CHECK(cols % DTypeBlockElems(dtype) == 0, "QuantizeRow: row not a multiple of the block");
    return QuantizeGgmlRow(*ggml, x, cols, nullptr, o);
  }
  ANSER_CHECK(DTypeIsBlock(dtype) && cols % kQBlock == 0, "QuantizeRow: bad dtype or cols");
  const size_t bb = DTypeBlockBytes(dtype);
  for (int64_t c = 0; c < cols; c += kQBlock, o += bb) {
    switch (dtype) {
      case DType::kQ8_0: QuantizeQ8_0(x + c, o); break;
      case DType::kQ4_0: QuantizeQ4_0(x + c, o); break;
      case DType::kQ4_1: QuantizeQ4_1(x + c, o); break;
      default: QuantizeQ5_0(x + c, o); break;
    }
  }
}

void DequantizeRow(DType dtype, const void* row, int64_t cols, float* out) {
  if (cols == 0) return;
  const auto* b = static_cast<const uint8_t*>(row);
  switch (dtype) {
    case DType::kF32: std::memcpy(out, b, static_cast<size_t>(cols) * 4); return;
    case DType::kF16:
    case DType::kBF16:
      for (int64_t i = 0; i < cols; ++i) {
        const uint16_t h = LoadU16(b + 2 * i);
        out[i] = dtype == DType::kF16 ? F16ToF32(h) : Bf16ToF32(h);
      }
      return;
    default: break;
  }
  if (const std::optional<uint32_t> ggml = GgmlNativeType(dtype)) {
    return DequantizeGgmlRow(*ggml, b, cols, out);
  }
  ANSER_CHECK(DTypeIsBlock(dtype) && cols % kQBlock == 0, "DequantizeRow: bad dtype or cols");
  const size_t bb = DTypeBlockBytes(dtype);
  for (int64_t c = 0; c < cols; c += kQBlock, b += bb) DequantizeBlock(dtype, b, out + c);
}

}  // namespace anser
