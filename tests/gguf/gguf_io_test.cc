// GGUF reading and writing at the file level: every tensor type and metadata value type
// round-trips; version 2 and other alignments read; each kind of corruption gives an error
// that says what is wrong.
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "io/formats.h"
#include "kernels/quantize.h"
#include "test_files.h"

namespace anser {
namespace {

std::string TempPath(const std::string& name) { return testing::ScratchPath(name); }
using testing::ReadAll;
using testing::WriteAll;


// A tensor of `dtype` holding rows of random values, quantized with the reference quantizer.
struct OwnedTensor {
  std::string name;
  DType dtype;
  std::vector<int64_t> shape;
  std::vector<uint8_t> bytes;
  TensorView view() const { return {name, dtype, shape, bytes.data()}; }
};

OwnedTensor RandomTensor(const std::string& name, DType dtype, std::vector<int64_t> shape, uint32_t seed) {
  OwnedTensor t{name, dtype, shape, {}};
  const int64_t cols = shape.back();
  int64_t rows = 1;
  for (size_t i = 0; i + 1 < shape.size(); ++i) rows *= shape[i];
  const size_t row_bytes = DTypeRowBytes(dtype, cols);
  t.bytes.resize(static_cast<size_t>(rows) * row_bytes);
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  std::vector<float> row(static_cast<size_t>(cols));
  for (int64_t r = 0; r < rows; ++r) {
    for (float& x : row) x = dist(rng);
    QuantizeRow(dtype, row.data(), cols, t.bytes.data() + static_cast<size_t>(r) * row_bytes);
  }
  return t;
}

GgufMetadata AllValueTypes() {
  GgufMetadata m;
  auto scalar = [](GgufType type, uint64_t u, int64_t i, double f) {
    GgufValue v;
    v.type = type;
    v.u = u;
    v.i = i;
    v.f = f;
    return v;
  };
  m.Set("general.architecture", GgufValue::String("test"));
  m.Set("u8", scalar(GgufType::kU8, 250, 0, 0));
  m.Set("i8", scalar(GgufType::kI8, 0, -120, 0));
  m.Set("u16", scalar(GgufType::kU16, 65000, 0, 0));
  m.Set("i16", scalar(GgufType::kI16, 0, -32000, 0));
  m.Set("u32", GgufValue::U32(4000000000u));
  m.Set("i32", GgufValue::I32(-2000000000));
  m.Set("f32", GgufValue::F32(0.1f));
  m.Set("bool", GgufValue::Bool(true));
  m.Set("string", GgufValue::String(std::string("h\xc3\xa9llo\0x", 8)));
  m.Set("u64", scalar(GgufType::kU64, 1ull << 63, 0, 0));
  m.Set("i64", scalar(GgufType::kI64, 0, INT64_MIN, 0));
  m.Set("f64", scalar(GgufType::kF64, 0, 0, 1e-300));
  m.Set("strings", GgufValue::Array(GgufType::kString, {GgufValue::String("a"), GgufValue::String("")}));
  m.Set("ints", GgufValue::Array(GgufType::kI32, {GgufValue::I32(-1), GgufValue::I32(7)}));
  m.Set("empty", GgufValue::Array(GgufType::kF32, {}));
  return m;
}

std::vector<OwnedTensor> AllTypes() {
  std::vector<OwnedTensor> ts;
  uint32_t seed = 1;
  for (DType d : {DType::kF32, DType::kF16, DType::kBF16, DType::kQ8_0, DType::kQ5_0, DType::kQ4_0, DType::kQ4_1}) {
    const std::string n(DTypeName(d));
    ts.push_back(RandomTensor(n + ".matrix", d, {3, 64}, seed++));
    ts.push_back(RandomTensor(n + ".four_d", d, {2, 1, 3, 32}, seed++));
  }
  ts.push_back(RandomTensor("vector", DType::kF32, {5}, seed++));
  return ts;
}

std::string WriteSample(const std::string& name, const GgufMetadata& m) {
  const std::string path = TempPath(name);
  std::vector<TensorSource> sources;
  static const std::vector<OwnedTensor> tensors = AllTypes();
  for (const OwnedTensor& t : tensors) sources.push_back(SourceOf(t.view()));
  const Status s = SaveGguf(path, m, sources);
  EXPECT_TRUE(s.ok()) << s.message();
  return path;
}

TEST(GgufIo, RoundTripsEveryTypeAndValue) {
  const GgufMetadata m = AllValueTypes();
  const std::string path = WriteSample("all.gguf", m);
  auto file = LoadGguf(path);
  ASSERT_TRUE(file.ok()) << file.message();
  EXPECT_EQ(file->version, 3u);
  EXPECT_EQ(file->alignment, 32u);
  ASSERT_EQ(file->metadata.entries().size(), m.entries().size());
  for (size_t i = 0; i < m.entries().size(); ++i) {
    EXPECT_EQ(file->metadata.entries()[i].first, m.entries()[i].first);
    GgufValue want = m.entries()[i].second;
    if (want.type == GgufType::kF32) want.f = static_cast<float>(want.f);
    EXPECT_TRUE(file->metadata.entries()[i].second == want) << m.entries()[i].first;
  }
  const std::vector<OwnedTensor> tensors = AllTypes();
  ASSERT_EQ(file->tensors.tensors().size(), tensors.size());
  for (const OwnedTensor& t : tensors) {
    const TensorView* v = file->tensors.Find(t.name);
    ASSERT_NE(v, nullptr) << t.name;
    EXPECT_EQ(v->dtype, t.dtype);
    EXPECT_EQ(v->shape, t.shape);
    ASSERT_EQ(v->nbytes(), t.bytes.size());
    EXPECT_EQ(std::memcmp(v->data, t.bytes.data(), t.bytes.size()), 0) << t.name;
    // In place: the data lies inside the mapping, 32-byte aligned.
    EXPECT_EQ(reinterpret_cast<uintptr_t>(v->data) % 32, 0u) << t.name;
  }
}

TEST(GgufIo, ReadsOtherAlignmentsAndVersion2) {
  GgufMetadata m = AllValueTypes();
  m.Set("general.alignment", GgufValue::U32(64));
  const std::string path = WriteSample("align64.gguf", m);
  auto file = LoadGguf(path);
  ASSERT_TRUE(file.ok()) << file.message();
  EXPECT_EQ(file->alignment, 64u);
  for (const TensorView& t : file->tensors.tensors()) EXPECT_EQ(reinterpret_cast<uintptr_t>(t.data) % 64, 0u);

  // Version 2 has the same layout (64-bit counts and lengths).
  std::string bytes = ReadAll(path);
  bytes[4] = 2;
  WriteAll(TempPath("v2.gguf"), bytes);
  auto v2 = LoadGguf(TempPath("v2.gguf"));
  ASSERT_TRUE(v2.ok()) << v2.message();
  EXPECT_EQ(v2->version, 2u);
  EXPECT_EQ(v2->tensors.tensors().size(), file->tensors.tensors().size());
}

// A file with one tensor, for targeted corruption: returns its bytes and where the tensor
// info's type and offset fields lie.
struct OneTensor {
  std::string bytes;
  size_t type_at = 0;
};

OneTensor OneTensorFile() {
  static float data[64] = {};
  const std::string path = TempPath("one.gguf");
  GgufMetadata m;
  m.Set("general.architecture", GgufValue::String("x"));
  EXPECT_TRUE(SaveGguf(path, m, {SourceOf({"t", DType::kF32, {2, 32}, data})}).ok());
  OneTensor o;
  o.bytes = ReadAll(path);
  // The tensor info ends with u32 type and u64 offset, right before the padding.
  o.type_at = o.bytes.find(std::string("t\x02\x00\x00\x00", 5)) + 5 + 16;
  return o;
}

std::string LoadError(const std::string& name, const std::string& bytes) {
  WriteAll(TempPath(name), bytes);
  auto r = LoadGguf(TempPath(name));
  return r.ok() ? "" : r.message();
}

TEST(GgufIo, ClearErrors) {
  const OneTensor o = OneTensorFile();
  ASSERT_TRUE(LoadError("ok.gguf", o.bytes).empty());

  std::string b = o.bytes;
  b[0] = 'X';
  EXPECT_NE(LoadError("magic.gguf", b).find("bad magic"), std::string::npos);

  b = o.bytes;
  b[4] = 1;
  EXPECT_NE(LoadError("v1.gguf", b).find("version 1"), std::string::npos);

  b = o.bytes;
  b[o.type_at] = 12;  // q4_K
  const std::string q4k = LoadError("q4k.gguf", b);
  EXPECT_NE(q4k.find("q4_K"), std::string::npos) << q4k;
  EXPECT_NE(q4k.find("'t'"), std::string::npos) << q4k;

  b = o.bytes;
  b[o.type_at + 4] = 8;  // offset 8: not a multiple of 32
  EXPECT_NE(LoadError("misaligned.gguf", b).find("not a multiple of the alignment"), std::string::npos);

  b = o.bytes;
  b[o.type_at + 4] = 64;  // past the end of the data
  EXPECT_NE(LoadError("past.gguf", b).find("past the end"), std::string::npos);

  b = o.bytes.substr(0, o.bytes.size() - 1);
  EXPECT_NE(LoadError("short.gguf", b).find("past the end"), std::string::npos);

  b = o.bytes.substr(0, 40);
  EXPECT_NE(LoadError("header.gguf", b).find("truncated"), std::string::npos);

  b = o.bytes;
  b[8] = 0x7f;  // tensor count far beyond the file
  EXPECT_NE(LoadError("count.gguf", b).find("exceeds the file"), std::string::npos);
}

TEST(GgufIo, WriterRejectsWhatLlamaCppCannotRead) {
  static float data[33] = {};
  const std::string path = TempPath("bad_write.gguf");
  EXPECT_FALSE(SaveGguf(path, {}, {SourceOf({"q", DType::kQ8_0, {1, 33}, data})}).ok());
  EXPECT_FALSE(SaveGguf(path, {}, {SourceOf({std::string(64, 'n'), DType::kF32, {1}, data})}).ok());
  EXPECT_FALSE(SaveGguf(path, {}, {SourceOf({"a", DType::kF32, {1}, data}), SourceOf({"a", DType::kF32, {1}, data})}).ok());
  EXPECT_FALSE(std::filesystem::exists(path));
}

TEST(GgufIo, SafetensorsWriterRoundTrips) {
  const OwnedTensor a = RandomTensor("a", DType::kBF16, {3, 5}, 7);
  const OwnedTensor b = RandomTensor("b", DType::kF32, {4}, 8);
  const std::string path = TempPath("t.safetensors");
  ASSERT_TRUE(SaveSafetensors(path, {SourceOf(a.view()), SourceOf(b.view())}).ok());
  auto store = LoadSafetensors(path);
  ASSERT_TRUE(store.ok()) << store.message();
  for (const OwnedTensor* t : {&a, &b}) {
    const TensorView* v = store->Find(t->name);
    ASSERT_NE(v, nullptr);
    EXPECT_EQ(v->shape, t->shape);
    EXPECT_EQ(std::memcmp(v->data, t->bytes.data(), t->bytes.size()), 0);
  }
  const OwnedTensor q = RandomTensor("q", DType::kQ8_0, {1, 32}, 9);
  EXPECT_FALSE(SaveSafetensors(path, {SourceOf(q.view())}).ok());
}

}  // namespace
}  // namespace anser
