// Every table's matrix product against the reference, for every weight type: token counts
// around the register tile (1, 2, 5, 17) and a full window (512 + 3), awkward widths.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "kernels/kernels.h"
#include "test_util.h"

namespace anser::testing {
namespace {

// Float weights: another summation order than the reference, a few ulps times √cols as for
// matvec. Block weights: a table may quantize the activations to 8 bits for few tokens, as its
// matvec does; the bounds are those of kernels_test.cc.
constexpr double kFloatBound = 3e-5;
constexpr double kQuantBound = 2e-2;
constexpr size_t kMisalign[] = {0, 1, 3};

void CheckMatmul(const CpuKernels& k, DType dtype, int64_t n, int64_t rows, int64_t cols,
                 size_t mis) {
  SCOPED_TRACE(Describe(k, dtype, rows, cols, mis) + " n " + std::to_string(n));
  TestMatrix w(dtype, rows, cols, mis, static_cast<uint32_t>(rows * 131 + cols));
  TestVector x(RandomFloats(n * cols, static_cast<uint32_t>(n + cols)), mis);
  Output want(n * rows, 0);
  RefKernels().matmul(w.ref, x.data(), n, want.data());
  for (const MatRef& layout : w.Layouts(k)) {
    SCOPED_TRACE(LayoutName(layout));
    Output got(n * rows, mis);
    k.matmul(layout, x.data(), n, got.data());
    EXPECT_LE(ProductError(got.data(), want.data(), w.ref, x.data(), n),
              DTypeIsBlock(dtype) ? kQuantBound : kFloatBound);
    EXPECT_TRUE(got.GuardIntact());
  }
}

TEST(MatmulTest, FloatTypes) {
  constexpr int64_t kN[] = {1, 2, 5, 8, 9, 17};
  constexpr int64_t kRows[] = {1, 7, 16, 17, 65};
  constexpr int64_t kCols[] = {0, 1, 8, 9, 63, 256, 257, 600};
  for (const CpuKernels* k : FastKernels()) {
    for (DType dtype : {DType::kF32, DType::kF16, DType::kBF16}) {
      size_t case_index = 0;
      for (int64_t n : kN) {
        for (int64_t rows : kRows) {
          for (int64_t cols : kCols) {
            CheckMatmul(*k, dtype, n, rows, cols, kMisalign[case_index++ % 3]);
          }
        }
      }
    }
  }
}

TEST(MatmulTest, FullWindow) {
  for (const CpuKernels* k : FastKernels()) {
    CheckMatmul(*k, DType::kF16, 512 + 3, 35, 520, 1);
    CheckMatmul(*k, DType::kQ4_1, 512 + 3, 17, 544, 3);
  }
}

// Rows in whole tile groups of 8 and 16 and left over; one, several and odd numbers of blocks
// (super-blocks for the K-quants).
TEST(MatmulTest, BlockTypes) {
  constexpr int64_t kN[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 17};
  constexpr int64_t kRows[] = {1, 17, 40};
  for (const CpuKernels* k : FastKernels()) {
    for (DType dtype :
         {DType::kQ8_0, DType::kQ4_0, DType::kQ4_1, DType::kQ5_0, DType::kQ5_1, DType::kIQ4_NL,
          DType::kQ4_K, DType::kQ5_K, DType::kQ6_K, DType::kIQ4_XS, DType::kQ3_K, DType::kQ2_K}) {
      const std::vector<int64_t> cols_list = DTypeBlockElems(dtype) == 256
                                                 ? std::vector<int64_t>{256, 768}
                                                 : std::vector<int64_t>{32, 288, 544};
      size_t case_index = 0;
      for (int64_t n : kN) {
        for (int64_t rows : kRows) {
          for (int64_t cols : cols_list) {
            CheckMatmul(*k, dtype, n, rows, cols, kMisalign[case_index++ % 3]);
          }
        }
      }
    }
  }
}

// matmul of n tokens whose every activation is `sign` against the reference, in every layout
// of k, to 1e-5: the activations quantize to ±127 exactly, so only float rounding differs.
void ExpectConstantTokensAsReference(const CpuKernels& k, TestMatrix& w, float sign, int64_t n) {
  const int64_t rows = w.ref.rows, cols = w.ref.cols;
  TestVector x(std::vector<float>(static_cast<size_t>(n * cols), sign), 0);
  Output want(n * rows, 0);
  RefKernels().matmul(w.ref, x.data(), n, want.data());
  for (const MatRef& layout : w.Layouts(k)) {
    SCOPED_TRACE(LayoutName(layout));
    Output got(n * rows, 0);
    k.matmul(layout, x.data(), n, got.data());
    EXPECT_LE(RelL2(got.data(), want.data(), n * rows), 1e-5);
  }
}

// Blocks of the GGML types whose every quant and scale is at its extreme (q4_K: q 15; q5_K, q5_1:
// q 31; their scales and mins 63; q6_K: q − 32 = −32 with scale −128, and 31 with 127; iq4_nl:
// levels −127 and 113, iq4_xs: those with ls − 32 = −32 and 31; q3_K: q −4 with sc − 32 = −32,
// and 3 with 31; q2_K: q 3, scale and min 15) against activations that quantize to ±127
// throughout: the largest partial sums the kernels form, which must not overflow.
TEST(MatmulTest, GgmlTypesAtTheirLargestQuants) {
  constexpr int64_t kRows = 19, kCols = 512;  // a 16-row tile group and rows left over
  for (DType dtype : {DType::kQ4_K, DType::kQ5_K, DType::kQ6_K, DType::kQ5_1, DType::kIQ4_NL,
                      DType::kIQ4_XS, DType::kQ3_K, DType::kQ2_K}) {
    for (uint8_t fill : {0x00, 0xff}) {
      TestMatrix w(dtype, kRows, kCols, 1, 0);
      const size_t block_bytes = DTypeBlockBytes(dtype);
      const size_t blocks = DTypeRowBytes(dtype, kCols) * kRows / block_bytes;
      const uint16_t scale = F32ToF16(1.0f / 1024);
      const bool q6 = dtype == DType::kQ6_K;
      const bool signed_levels =
          q6 || dtype == DType::kIQ4_NL || dtype == DType::kIQ4_XS || dtype == DType::kQ3_K;
      // Where d lies, and dmin (or q5_1's m) for the types with one.
      const size_t d_at = q6 ? 208 : dtype == DType::kQ3_K ? 108 : dtype == DType::kQ2_K ? 80 : 0;
      for (size_t b = 0; b < blocks; ++b) {
        uint8_t* blk = w.buffer.data() + b * block_bytes;
        std::fill(blk, blk + block_bytes, signed_levels ? fill : uint8_t{0xff});
        if (q6) std::fill(blk + 192, blk + 208, fill == 0 ? 0x80 : 0x7f);
        std::memcpy(blk + d_at, &scale, 2);
        if (!signed_levels) std::memcpy(blk + d_at + 2, &scale, 2);
      }
      for (const CpuKernels* k : FastKernels()) {
        for (float sign : {1.0f, -1.0f}) {
          for (int64_t n : {1, 5}) {
            SCOPED_TRACE(Describe(*k, dtype, kRows, kCols, 1) + " fill " + std::to_string(fill) +
                         " n " + std::to_string(n) + " x " + std::to_string(sign));
            ExpectConstantTokensAsReference(*k, w, sign, n);
          }
        }
      }
    }
  }
}

// Every weight quant at its largest magnitude (15 for the 4-bit types, 31 for q5_0, ±127 for
// q8_0) against activations that quantize to ±127 throughout: the largest partial sums a kernel
// keeps in 16-bit lanes, which must not overflow.
TEST(MatmulTest, BlockTypesAtTheirLargestQuants) {
  constexpr int64_t kRows = 16, kCols = 256;
  for (const CpuKernels* k : FastKernels()) {
    for (DType dtype : {DType::kQ8_0, DType::kQ4_0, DType::kQ4_1, DType::kQ5_0}) {
      // The first element of each block sets its scale; the others land on the largest quant.
      const float rest = dtype == DType::kQ4_0 ? -0.875f : dtype == DType::kQ5_0 ? -0.9375f : 1.0f;
      std::vector<float> values(static_cast<size_t>(kRows * kCols), rest);
      for (size_t i = 0; i < values.size(); i += 32) values[i] = dtype == DType::kQ8_0 ? -1.0f : dtype == DType::kQ4_1 ? -1.0f : 1.0f;
      TestMatrix w(dtype, kRows, kCols, 1, 0);
      for (int64_t r = 0; r < kRows; ++r) {
        QuantizeRow(dtype, values.data() + r * kCols, kCols, w.buffer.data() + r * DTypeRowBytes(dtype, kCols));
      }
      for (float sign : {1.0f, -1.0f}) {
        for (int64_t n : {1, 2, 8}) {
          SCOPED_TRACE(Describe(*k, dtype, kRows, kCols, 1) + " n " + std::to_string(n) + " x " + std::to_string(sign));
          ExpectConstantTokensAsReference(*k, w, sign, n);
        }
      }
    }
  }
}

}  // namespace
}  // namespace anser::testing
