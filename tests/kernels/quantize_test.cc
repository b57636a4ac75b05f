// The reference quantizers: bit layouts worked by hand (they must match GGML's files) and
// round-trip error bounds.
#include "kernels/quantize.h"

#include <gtest/gtest.h>

#include <cstring>

#include "test_util.h"

namespace anser::testing {
namespace {

std::vector<uint8_t> Quantize(DType dtype, const std::vector<float>& x) {
  std::vector<uint8_t> out(DTypeRowBytes(dtype, static_cast<int64_t>(x.size())));
  QuantizeRow(dtype, x.data(), static_cast<int64_t>(x.size()), out.data());
  return out;
}

std::vector<float> Dequantize(DType dtype, const std::vector<uint8_t>& row, int64_t cols) {
  std::vector<float> out(static_cast<size_t>(cols));
  DequantizeRow(dtype, row.data(), cols, out.data());
  return out;
}

uint16_t Scale(const std::vector<uint8_t>& b, size_t at) {
  uint16_t h;
  std::memcpy(&h, b.data() + at, 2);
  return h;
}

TEST(QuantizeTest, RowSizes) {
  EXPECT_EQ(DTypeRowBytes(DType::kQ8_0, 64), 68u);
  EXPECT_EQ(DTypeRowBytes(DType::kQ4_0, 64), 36u);
  EXPECT_EQ(DTypeRowBytes(DType::kQ4_1, 64), 40u);
  EXPECT_EQ(DTypeRowBytes(DType::kQ5_0, 64), 44u);
  EXPECT_EQ(DTypeRowBytes(DType::kF16, 7), 14u);
  EXPECT_EQ(DTypeBlockElems(DType::kQ5_0), 32);
  EXPECT_EQ(DTypeName(DType::kQ4_1), "q4_1");
}

// Elements 0..15 and 16..31 both run −8..7: the extreme −8 gives d = 1, quants 0..15.
TEST(QuantizeTest, Q4_0Layout) {
  std::vector<float> x(32);
  for (int j = 0; j < 32; ++j) x[j] = static_cast<float>(j % 16 - 8);
  const std::vector<uint8_t> b = Quantize(DType::kQ4_0, x);
  EXPECT_EQ(Scale(b, 0), F32ToF16(1.0f));
  for (int j = 0; j < 16; ++j) EXPECT_EQ(b[2 + j], j | (j << 4)) << j;
  EXPECT_EQ(Dequantize(DType::kQ4_0, b, 32), x);
}

TEST(QuantizeTest, Q4_1Layout) {
  std::vector<float> x(32);
  for (int j = 0; j < 32; ++j) x[j] = 1.0f + 0.5f * static_cast<float>(j % 16);
  const std::vector<uint8_t> b = Quantize(DType::kQ4_1, x);
  EXPECT_EQ(Scale(b, 0), F32ToF16(0.5f));
  EXPECT_EQ(Scale(b, 2), F32ToF16(1.0f));
  for (int j = 0; j < 16; ++j) EXPECT_EQ(b[4 + j], j | (j << 4)) << j;
  EXPECT_EQ(Dequantize(DType::kQ4_1, b, 32), x);
}

// Elements run −16..15: d = 1, quant j for element j; bit 4 set for elements 16..31.
TEST(QuantizeTest, Q5_0Layout) {
  std::vector<float> x(32);
  for (int j = 0; j < 32; ++j) x[j] = static_cast<float>(j - 16);
  const std::vector<uint8_t> b = Quantize(DType::kQ5_0, x);
  EXPECT_EQ(Scale(b, 0), F32ToF16(1.0f));
  uint32_t qh;
  std::memcpy(&qh, b.data() + 2, 4);
  EXPECT_EQ(qh, 0xffff0000u);
  for (int j = 0; j < 16; ++j) EXPECT_EQ(b[6 + j], j | (j << 4)) << j;
  EXPECT_EQ(Dequantize(DType::kQ5_0, b, 32), x);
}

TEST(QuantizeTest, Q8_0Layout) {
  std::vector<float> x(32);
  for (int j = 0; j < 32; ++j) x[j] = static_cast<float>(j - 16) / 16.0f;  // amax 1 at j = 0
  const std::vector<uint8_t> b = Quantize(DType::kQ8_0, x);
  EXPECT_EQ(Scale(b, 0), F32ToF16(1.0f / 127.0f));
  for (int j = 0; j < 32; ++j) {
    const auto q = static_cast<int8_t>(b[2 + j]);
    EXPECT_EQ(q, static_cast<int>(std::round(x[j] * 127.0f))) << j;
  }
}

TEST(QuantizeTest, ZeroBlocksStayZero) {
  const std::vector<float> x(64, 0.0f);
  for (DType dtype : {DType::kQ8_0, DType::kQ4_0, DType::kQ4_1, DType::kQ5_0}) {
    EXPECT_EQ(Dequantize(dtype, Quantize(dtype, x), 64), x) << DTypeName(dtype);
  }
}

// Round to nearest leaves an error uniform in ±d/2, rms d/√12, with d = amax/127 (q8_0),
// amax/8 (q4_0), amax/16 (q5_0), range/15 (q4_1). For Gaussian blocks of 32, amax ≈ 2.5σ and the
// range ≈ 4.9σ, so the relative rms errors are about 0.6 %, 9 %, 4.5 % and 9.5 %; each bound is
// ~1.5× that. The float types are checked against their scalar conversions' half-ulp error.
TEST(QuantizeTest, RoundTripErrorBounds) {
  const struct {
    DType dtype;
    double bound;
  } cases[] = {{DType::kQ8_0, 0.01}, {DType::kQ4_0, 0.14}, {DType::kQ4_1, 0.14},
               {DType::kQ5_0, 0.07}, {DType::kF16, 1e-3},  {DType::kBF16, 4e-3},
               {DType::kF32, 0.0}};
  const std::vector<float> x = RandomFloats(4096 + 32, 7, 3.0f);
  for (const auto& c : cases) {
    const std::vector<float> y =
        Dequantize(c.dtype, Quantize(c.dtype, x), static_cast<int64_t>(x.size()));
    EXPECT_LE(RelL2(y.data(), x.data(), static_cast<int64_t>(x.size())), c.bound)
        << DTypeName(c.dtype);
  }
}

}  // namespace
}  // namespace anser::testing
