// llama-quantize's RWKV-7 files (../shared/fixtures/gguf-quants, see its README): every tensor
// of every file dequantizes bit for bit as ggml does, every file runs (every type natively; q8_K,
// which llama-quantize does not write for RWKV-7, would be converted to q8_0 at load) on every
// kernel table no further from the float64 reference logits than llama.cpp on the same file, and
// a type Anser cannot read is refused by name.
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "anser/model.h"
#include "io/formats.h"
#include "kernels/ggml_dequant.h"
#include "kernels/kernels.h"
#include "kernels/quantize.h"
#include "model/fixtures.h"
#include "test_files.h"

namespace anser {
namespace {

const std::string kDir = std::string(ANSER_SHARED_DIR) + "/fixtures/gguf-quants/";

// Every file of the fixture folder, by its TAG (model.TAG.gguf).
const char* const kTags[] = {"q4_0.pure",   "q4_1.pure",   "q5_0.pure", "q5_1.pure", "q8_0.pure",
                             "q2_k.pure",   "q3_k.pure",   "q4_k.pure", "q5_k.pure", "q6_k.pure",
                             "iq4_nl.pure", "iq4_xs.pure", "Q4_0",      "Q2_K",      "Q3_K_M",
                             "Q4_K_M",      "Q5_K_M"};

nlohmann::json ReadJson(const std::string& path) {
  std::ifstream in(path);
  EXPECT_TRUE(in) << "cannot read " << path;
  return nlohmann::json::parse(in);
}

std::vector<float> ReadFloats(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<float> v(bytes.size() / sizeof(float));
  std::memcpy(v.data(), bytes.data(), v.size() * sizeof(float));
  return v;
}

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

uint32_t Bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}

class GgufQuants : public ::testing::TestWithParam<const char*> {};

// Each tensor as Anser reads it (every type of these files as stored, none converted at load),
// dequantized row by row through the reference DequantizeRow of its dtype.
TEST_P(GgufQuants, DequantizesEveryTensorBitForBit) {
  const std::string tag = GetParam();
  auto gguf = LoadGguf(kDir + "model." + tag + ".gguf");
  ASSERT_TRUE(gguf.ok()) << gguf.message();
  EXPECT_TRUE(gguf->converted.empty());
  const nlohmann::json ref = ReadJson(kDir + "model." + tag + ".dequant.json");
  const std::vector<float> ref_rows = ReadFloats(kDir + ref.at("rows_file").get<std::string>());
  for (const auto& t : ref.at("tensors")) {
    const std::string name = t.at("name").get<std::string>();
    SCOPED_TRACE(tag + " " + name);
    const TensorView* view = gguf->tensors.Find(name);
    ASSERT_NE(view, nullptr);
    const auto ne = t.at("ne").get<std::vector<int64_t>>();
    const int64_t cols = ne[0];
    const int64_t n_rows = t.at("n_rows").get<int64_t>();
    ASSERT_EQ(view->numel(), cols * n_rows);
    EXPECT_EQ(Lower(std::string(DTypeName(view->dtype))), Lower(t.at("type").get<std::string>()));

    const size_t row_bytes = DTypeRowBytes(view->dtype, cols);
    const auto* data = static_cast<const uint8_t*>(view->data);
    std::vector<std::vector<float>> rows(static_cast<size_t>(n_rows),
                                         std::vector<float>(static_cast<size_t>(cols)));
    double sum = 0, sumsq = 0;
    for (int64_t r = 0; r < n_rows; ++r) {
      std::vector<float>& row = rows[static_cast<size_t>(r)];
      DequantizeRow(view->dtype, data + static_cast<size_t>(r) * row_bytes, cols, row.data());
      for (float x : row) sum += x, sumsq += static_cast<double>(x) * x;
    }
    const double n = static_cast<double>(cols * n_rows);
    const double ref_sumsq = t.at("sumsq").get<double>();
    EXPECT_LE(std::fabs(sum - t.at("sum").get<double>()), 1e-9 * std::sqrt(n * ref_sumsq));
    EXPECT_LE(std::fabs(sumsq - ref_sumsq), 1e-9 * ref_sumsq);
    if (!t.contains("rows")) continue;
    size_t at = t.at("offset").get<size_t>();
    for (const int64_t r : t.at("rows").get<std::vector<int64_t>>()) {
      ASSERT_LE(at + static_cast<size_t>(cols), ref_rows.size());
      int differing = 0;
      for (int64_t c = 0; c < cols; ++c) {
        differing += Bits(rows[static_cast<size_t>(r)][static_cast<size_t>(c)]) !=
                     Bits(ref_rows[at + static_cast<size_t>(c)]);
      }
      EXPECT_EQ(differing, 0) << "row " << r;
      at += static_cast<size_t>(cols);
    }
  }
}

// The README's measure: over all stored rows of the file's cases, each logit difference divided
// by the standard deviation of its reference row; Anser's rms and max of it against llama.cpp's.
TEST_P(GgufQuants, LogitsNoFurtherFromTheReferenceThanLlamaCpp) {
  const std::string tag = GetParam();
  const std::string file = "model." + tag + ".gguf";
  const testing::Fixture fixture = testing::ReadFixture("gguf-quants");
  const nlohmann::json manifest = ReadJson(kDir + "manifest.json");
  double llama_max = -1, llama_rms = -1;
  for (const auto& f : manifest.at("files")) {
    if (f.value("file", nlohmann::json()) == file) {
      llama_max = f.at("llama_cpp_max_dev").get<double>();
      llama_rms = f.at("llama_cpp_rms_dev").get<double>();
    }
  }
  ASSERT_GT(llama_max, 0) << file << " is not in manifest.json";

  // Every kernel table: a model packs its matrices for the table selected when it loads.
  struct ResetTable {
    ~ResetTable() { SelectKernelsForTesting(nullptr); }
  } reset;
  for (const CpuKernels* table : AllKernels()) {
    SCOPED_TRACE(table->name);
    SelectKernelsForTesting(table);
    auto model = Model::Load(kDir + file);
    ASSERT_TRUE(model.ok()) << model.message();
    const int V = fixture.vocab;
    testing::LogitDeviation deviation;
    for (const testing::FixtureCase& c : fixture.cases) {
      if (c.model != file) continue;
      Session session(*model, {0});
      State state((*model)->config());
      std::vector<float> logits;
      session.Prefill(state, c.tokens, true, &logits);
      for (size_t i = 0; i < c.positions.size(); ++i) {
        deviation.AddRow(logits.data() + static_cast<size_t>(c.positions[i]) * V,
                         c.logits.data() + i * V, V);
      }
    }
    ASSERT_EQ(deviation.rows(), 51);
    const double max_dev = deviation.max(), rms_dev = deviation.rms();
    std::printf(
        "%-24s %-8s anser max_dev %.3g rms_dev %.3g | llama.cpp max_dev %.3g rms_dev %.3g | "
        "ratio %.2f %.2f\n",
        file.c_str(), table->name, max_dev, rms_dev, llama_max, llama_rms, max_dev / llama_max,
        rms_dev / llama_rms);
    EXPECT_LE(rms_dev, 1.25 * llama_rms);
    EXPECT_LE(max_dev, 2.0 * llama_max);
  }
}

INSTANTIATE_TEST_SUITE_P(Files, GgufQuants, ::testing::ValuesIn(kTags),
                         [](const ::testing::TestParamInfo<const char*>& file) {
                           std::string name = file.param;
                           std::replace(name.begin(), name.end(), '.', '_');
                           return name;
                         });

// Readers of the vocabulary take the metadata alone: nothing is converted.
TEST(GgufQuantsMetadata, MetadataOnlyConvertsNothing) {
  auto gguf = LoadGguf(kDir + "model.Q4_K_M.gguf", GgufRead::kMetadata);
  ASSERT_TRUE(gguf.ok()) << gguf.message();
  EXPECT_TRUE(gguf->tensors.tensors().empty());
  EXPECT_TRUE(gguf->converted.empty());
  const GgufValue* tokens = gguf->metadata.Find("tokenizer.ggml.tokens");
  ASSERT_NE(tokens, nullptr);
  EXPECT_EQ(tokens->items.size(), 1024u);
}

// A copy of a fixture with output.weight's type code patched to iq2_xxs (16): the error names
// the tensor, the type and the types Anser reads.
TEST(GgufQuantsRefusal, NamesTensorTypeAndReadableTypes) {
  std::ifstream in(kDir + "model.Q4_K_M.gguf", std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const std::string name = "output.weight";
  std::string key(8, '\0');
  key[0] = static_cast<char>(name.size());  // u64 length, little-endian
  key += name;
  const size_t at = bytes.find(key);
  ASSERT_NE(at, std::string::npos);
  const size_t n_dims_at = at + key.size();
  ASSERT_EQ(bytes[n_dims_at], 2);
  const size_t type_at = n_dims_at + 4 + 2 * 8;
  ASSERT_EQ(static_cast<uint8_t>(bytes[type_at]), kGgmlQ6_K);
  bytes[type_at] = 16;
  const std::string path = testing::ScratchPath("iq2_xxs.gguf");
  std::ofstream(path, std::ios::binary) << bytes;

  auto gguf = LoadGguf(path);
  ASSERT_FALSE(gguf.ok());
  const std::string message = gguf.message();
  EXPECT_NE(message.find("'output.weight'"), std::string::npos) << message;
  EXPECT_NE(message.find("iq2_xxs"), std::string::npos) << message;
  for (const char* type : {"q8_0", "q2_K", "q3_K", "q4_K", "q6_K", "iq4_nl", "iq4_xs", "q5_1"}) {
    EXPECT_NE(message.find(type), std::string::npos) << type << " missing in: " << message;
  }
  auto model = Model::Load(path);
  ASSERT_FALSE(model.ok());
  EXPECT_NE(model.message().find("iq2_xxs"), std::string::npos) << model.message();
}

}  // namespace
}  // namespace anser
