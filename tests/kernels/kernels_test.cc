// Every kernel table against the reference: matrix–vector products for every weight type and
// the WKV-7 recurrence, over awkward sizes, misaligned pointers and NaN-filled outputs.
#include "kernels/kernels.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <random>
#include <string_view>

#include "core/cpu_features.h"
#include "test_util.h"

namespace anser::testing {
namespace {

constexpr int64_t kSizes[] = {0, 1, 7, 8, 9, 63, 64, 65, 4099};
constexpr size_t kMisalign[] = {0, 1, 3};  // floats for x and y; bytes for the weights

// Float weights: ref and fast paths differ only in summation order (f16/bf16 convert exactly),
// so the error is a few ulps times √cols: ~1e-6 at 4099 columns of random data. 3e-5 leaves
// room for unlucky cancellation and still catches a single wrong or missing product (≥ 1/cols).
constexpr double kFloatBound = 3e-5;
// Block weights: the fast path rounds x to 8 bits per 32-block (|error| ≤ amax/254 per element,
// ~0.5 % rms of a Gaussian block), as GGML's q8_0 path does; 2 % of the product scale (see
// ProductError) allows that, not a wrong block.
constexpr double kQuantBound = 2e-2;

void CheckMatvec(const CpuKernels& k, DType dtype, int64_t rows, int64_t cols, size_t mis,
                 double bound) {
  SCOPED_TRACE(Describe(k, dtype, rows, cols, mis));
  TestMatrix w(dtype, rows, cols, mis, static_cast<uint32_t>(rows * 7919 + cols));
  TestVector x(RandomFloats(cols, static_cast<uint32_t>(cols + 1)), mis);
  Output want(rows, 0);
  RefKernels().matvec(w.ref, x.data(), want.data());
  for (const MatRef& layout : w.Layouts(k)) {
    SCOPED_TRACE(LayoutName(layout));
    Output got(rows, mis);
    k.matvec(layout, x.data(), got.data());
    EXPECT_LE(ProductError(got.data(), want.data(), w.ref, x.data(), 1), bound);
    EXPECT_TRUE(got.GuardIntact());
  }
}

TEST(KernelsTest, ReferenceComesFirstAndSelectionIsListed) {
  const std::vector<const CpuKernels*> all = AllKernels();
  ASSERT_FALSE(all.empty());
  EXPECT_EQ(all.front(), &RefKernels());
  EXPECT_NE(std::find(all.begin(), all.end(), &SelectKernels()), all.end());
  for (const CpuKernels* k : all) {
    EXPECT_NE(k->matvec, nullptr);
    EXPECT_NE(k->matmul, nullptr);
    EXPECT_NE(k->wkv7, nullptr);
    EXPECT_NE(k->pack, nullptr);
  }
}

// The avx512 table is listed exactly where the CPU runs it (on another CPU the kernel tests run
// the tables that are there: this one is then reported unavailable by its absence here).
TEST(KernelsTest, Avx512TableIsListedWhereTheCpuRunsIt) {
  const std::vector<const CpuKernels*> all = AllKernels();
  const bool listed = std::any_of(all.begin(), all.end(), [](const CpuKernels* k) {
    return std::string_view(k->name) == "avx512";
  });
  EXPECT_EQ(listed, Avx512Runs(GetCpuFeatures()));
  const CpuFeatures& cpu = GetCpuFeatures();
  EXPECT_EQ(Avx512Runs(cpu), cpu.avx2 && cpu.fma && cpu.f16c && cpu.avx512f && cpu.avx512bw &&
                                 cpu.avx512vl && cpu.avx512vnni);
}

// Packing keeps the reference's matrices and every float matrix as stored, and only block types
// (the K-quants included) change layout; a packed matrix is not packed twice.
TEST(KernelsTest, PackChangesOnlyBlockLayoutsOfFastTables) {
  for (const CpuKernels* k : AllKernels()) {
    for (DType dtype : {DType::kF16, DType::kQ8_0, DType::kQ4_0, DType::kQ4_1, DType::kQ5_0,
                        DType::kQ5_1, DType::kIQ4_NL, DType::kQ4_K, DType::kQ5_K, DType::kQ6_K,
                        DType::kIQ4_XS, DType::kQ3_K, DType::kQ2_K}) {
      const int64_t cols = std::max<int64_t>(64, DTypeBlockElems(dtype));
      SCOPED_TRACE(Describe(*k, dtype, 17, cols, 0));
      TestMatrix w(dtype, 17, cols, 0, 5);
      const MatRef packed = w.Layouts(*k)[1];
      const bool changes = k != &RefKernels() && DTypeIsBlock(dtype);
      const MatLayout tiles =
          std::string_view(k->name) == "avx512" ? MatLayout::kTiles16 : MatLayout::kTiles8;
      EXPECT_EQ(packed.layout, changes ? tiles : MatLayout::kRows);
      const size_t bytes = DTypeRowBytes(dtype, cols) * 17;
      const std::vector<uint8_t> once(w.packed.data(), w.packed.data() + bytes);
      MatRef again = packed;
      k->pack(again, w.packed.data());
      EXPECT_EQ(std::vector<uint8_t>(w.packed.data(), w.packed.data() + bytes), once);
      EXPECT_EQ(std::equal(once.begin(), once.end(), w.buffer.data()), !changes);
    }
  }
}

// UnpackMatrix undoes every table's pack, bit for bit, whatever the bytes (random ones here, so
// every bit of every field is checked), rows left over after the last whole tile included; and
// PackedLayout names the layout each table's pack gives.
TEST(KernelsTest, UnpackUndoesEveryPack) {
  std::mt19937 random(3);
  for (const CpuKernels* k : AllKernels()) {
    for (DType dtype :
         {DType::kQ8_0, DType::kQ4_0, DType::kQ4_1, DType::kQ5_0, DType::kQ5_1, DType::kIQ4_NL,
          DType::kQ4_K, DType::kQ5_K, DType::kQ6_K, DType::kIQ4_XS, DType::kQ3_K, DType::kQ2_K}) {
      const int64_t rows = 37, cols = 2 * DTypeBlockElems(dtype);
      SCOPED_TRACE(Describe(*k, dtype, rows, cols, 0));
      std::vector<uint8_t> stored(DTypeRowBytes(dtype, cols) * rows);
      for (uint8_t& b : stored) b = static_cast<uint8_t>(random());
      std::vector<uint8_t> bytes = stored;
      MatRef w{dtype, bytes.data(), rows, cols};
      k->pack(w, bytes.data());
      EXPECT_EQ(w.layout, PackedLayout(*k));
      UnpackMatrix(w, bytes.data());
      EXPECT_EQ(w.layout, MatLayout::kRows);
      EXPECT_TRUE(bytes == stored);
    }
  }
}

TEST(KernelsTest, MatvecFloatTypes) {
  for (const CpuKernels* k : FastKernels()) {
    for (DType dtype : {DType::kF32, DType::kF16, DType::kBF16}) {
      size_t case_index = 0;
      for (int64_t rows : kSizes) {
        for (int64_t cols : kSizes) {
          // The 4099 × 4099 corner adds no path the 4099 × 65 cases miss; skipping it keeps the
          // sanitizer run short.
          if (rows * cols > 300'000) continue;
          CheckMatvec(*k, dtype, rows, cols, kMisalign[case_index++ % 3], kFloatBound);
        }
      }
    }
  }
}

TEST(KernelsTest, MatvecBlockTypes) {
  constexpr int64_t kRows[] = {0, 1, 7, 9, 65, 130};
  constexpr int64_t kCols[] = {0, 32, 64, 96, 256, 288, 1056, 4128};
  for (const CpuKernels* k : FastKernels()) {
    for (DType dtype : {DType::kQ8_0, DType::kQ4_0, DType::kQ4_1, DType::kQ5_0, DType::kQ5_1,
                        DType::kIQ4_NL}) {
      size_t case_index = 0;
      for (int64_t rows : kRows) {
        for (int64_t cols : kCols) {
          CheckMatvec(*k, dtype, rows, cols, kMisalign[case_index++ % 3], kQuantBound);
        }
      }
    }
  }
}

// The K-quants (super-blocks of 256): rows around the thread chunks, every whole number of
// super-blocks up to 3, and a long row.
TEST(KernelsTest, MatvecKQuantTypes) {
  constexpr int64_t kRows[] = {0, 1, 7, 9, 65, 130};
  constexpr int64_t kCols[] = {0, 256, 512, 768, 4352};
  for (const CpuKernels* k : FastKernels()) {
    for (DType dtype :
         {DType::kQ4_K, DType::kQ5_K, DType::kQ6_K, DType::kIQ4_XS, DType::kQ3_K, DType::kQ2_K}) {
      size_t case_index = 0;
      for (int64_t rows : kRows) {
        for (int64_t cols : kCols) {
          CheckMatvec(*k, dtype, rows, cols, kMisalign[case_index++ % 3], kQuantBound);
        }
      }
    }
  }
}

// The reference against the product of its dequantized weights summed in double: the float
// rounding of its own sum, a few ulps times √cols, and nothing else (no wrong element).
TEST(KernelsTest, ReferenceMatvecGgmlTypesIsTheDequantizedProduct) {
  for (DType dtype : {DType::kQ4_K, DType::kQ5_K, DType::kQ6_K, DType::kIQ4_XS, DType::kIQ4_NL,
                      DType::kQ5_1, DType::kQ3_K, DType::kQ2_K}) {
    constexpr int64_t kRows = 9, kCols = 1024;
    SCOPED_TRACE(DTypeName(dtype));
    TestMatrix w(dtype, kRows, kCols, 1, 17);
    const std::vector<float> x = RandomFloats(kCols, 3);
    std::vector<float> got(kRows), want(kRows), row(kCols);
    RefKernels().matvec(w.ref, x.data(), got.data());
    for (int64_t r = 0; r < kRows; ++r) {
      DequantizeRow(dtype, w.buffer.data() + r * DTypeRowBytes(dtype, kCols), kCols, row.data());
      double sum = 0.0;
      for (int64_t c = 0; c < kCols; ++c) sum += static_cast<double>(row[c]) * x[c];
      want[r] = static_cast<float>(sum);
    }
    EXPECT_LE(ProductError(got.data(), want.data(), w.ref, x.data(), 1), 1e-6);
  }
}

// The reference itself on a case worked by hand: q4_0 block with quants 0..15 and d = 1.
TEST(KernelsTest, ReferenceMatvecDequantizesBlocks) {
  std::vector<float> row(32);
  for (int j = 0; j < 32; ++j) row[j] = static_cast<float>(j % 16 - 8);
  std::vector<uint8_t> stored(DTypeRowBytes(DType::kQ4_0, 32));
  QuantizeRow(DType::kQ4_0, row.data(), 32, stored.data());
  std::vector<float> x(32, 1.0f);
  float y = 0.0f;
  RefKernels().matvec(MatRef{DType::kQ4_0, stored.data(), 1, 32}, x.data(), &y);
  EXPECT_EQ(y, -16.0f);  // 2 · Σ_{q=0..15} (q − 8)
}

struct Wkv7Case {
  int64_t n_head, head_size, n_tokens;
};

void CheckWkv7(const CpuKernels& k, const Wkv7Case& c, size_t mis) {
  SCOPED_TRACE(std::string(k.name) + " heads " + std::to_string(c.n_head) + " N " +
               std::to_string(c.head_size) + " tokens " + std::to_string(c.n_tokens));
  const int64_t C = c.n_head * c.head_size;
  const int64_t stride = C + 3;  // a stride wider than the vectors, as a caller may use
  const int64_t len = c.n_tokens * stride;
  uint32_t seed = static_cast<uint32_t>(C * 31 + c.n_tokens);
  const std::vector<float> r = RandomFloats(len, ++seed), k_ = RandomFloats(len, ++seed);
  const std::vector<float> v = RandomFloats(len, ++seed);
  std::vector<float> w = RandomFloats(len, ++seed), kk = RandomFloats(len, ++seed);
  std::vector<float> alpha = RandomFloats(len, ++seed), a(len), b(len);
  // Inputs as the model makes them: decay in (0.545, 1), κ̂ unit per head, α in (0, 1).
  for (int64_t i = 0; i < len; ++i) {
    w[i] = std::exp(-0.606531f / (1.0f + std::exp(-w[i])));
    alpha[i] = 1.0f / (1.0f + std::exp(-alpha[i]));
  }
  for (int64_t t = 0; t < c.n_tokens; ++t) {
    for (int64_t h = 0; h < c.n_head; ++h) {
      float* q = kk.data() + t * stride + h * c.head_size;
      double sq = 0.0;
      for (int64_t j = 0; j < c.head_size; ++j) sq += q[j] * q[j];
      for (int64_t j = 0; j < c.head_size; ++j) q[j] /= static_cast<float>(std::sqrt(sq));
    }
  }
  for (int64_t i = 0; i < len; ++i) {
    a[i] = -kk[i];
    b[i] = kk[i] * alpha[i];
  }
  const std::vector<float> state0 = RandomFloats(c.n_head * c.head_size * c.head_size, ++seed);
  TestVector tr(r, mis), tw(w, mis), tk(k_, mis), tv(v, mis), ta(a, mis), tb(b, mis);
  TestVector want_state(state0, 0), got_state(state0, mis);
  Output want_y(len, 0), got_y(len, mis);
  Wkv7Args args;
  args.n_tokens = c.n_tokens;
  args.n_head = c.n_head;
  args.head_size = c.head_size;
  args.stride = stride;
  args.r = tr.data();
  args.w = tw.data();
  args.k = tk.data();
  args.v = tv.data();
  args.a = ta.data();
  args.b = tb.data();
  args.state = want_state.data();
  args.y = want_y.data();
  RefKernels().wkv7(args);
  args.state = got_state.data();
  args.y = got_y.data();
  k.wkv7(args);
  // Only the first C floats of each token's stride are outputs.
  std::vector<float> got, want;
  for (int64_t t = 0; t < c.n_tokens; ++t) {
    got.insert(got.end(), got_y.data() + t * stride, got_y.data() + t * stride + C);
    want.insert(want.end(), want_y.data() + t * stride, want_y.data() + t * stride + C);
    for (int64_t i = C; i < stride; ++i) EXPECT_TRUE(std::isnan(got_y.data()[t * stride + i]));
  }
  // The update is a contraction (w < 1, ‖κ̂‖ = 1, α < 1): per-token rounding (a few ulps times
  // √N for the two dot products) does not grow over tokens. 1e-5 is ~30× the observed error.
  EXPECT_LE(RelL2(got.data(), want.data(), static_cast<int64_t>(got.size())), 1e-5);
  EXPECT_LE(RelL2(got_state.data(), want_state.data(), static_cast<int64_t>(state0.size())), 1e-5);
}

TEST(KernelsTest, Wkv7) {
  const Wkv7Case cases[] = {{1, 16, 1},  {3, 16, 5},  {2, 32, 1}, {2, 32, 9}, {12, 64, 1},
                            {4, 64, 17}, {2, 128, 3}, {1, 1, 4},  {2, 7, 3},  {3, 20, 6}};
  for (const CpuKernels* k : FastKernels()) {
    size_t case_index = 0;
    for (const Wkv7Case& c : cases) CheckWkv7(*k, c, kMisalign[case_index++ % 3]);
  }
}

TEST(KernelsTest, ThreadCountsGiveTheSameResults) {
  for (int threads : {1, 2, 3}) {
    SetKernelThreads(threads);
    EXPECT_EQ(KernelThreads(), threads);
    for (const CpuKernels* k : FastKernels()) {
      CheckMatvec(*k, DType::kF16, 1000, 300, 1, kFloatBound);
      CheckMatvec(*k, DType::kQ4_0, 1000, 320, 3, kQuantBound);
      CheckWkv7(*k, {8, 64, 4}, 1);
    }
  }
  SetKernelThreads(0);
}

}  // namespace
}  // namespace anser::testing
