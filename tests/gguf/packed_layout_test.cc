// Packed GGUF files (`anser quantize --layout packed`): for every block type and every table
// that packs, the file packed for it gives bitwise the logits of the standard file on every
// table this CPU runs; a table of the file's layout reads its matrices in place from the file's
// read-only pages, any other unpacks them; the file names its own architecture, and converting
// it gives back the standard file.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

#include "anser/model.h"
#include "io/formats.h"
#include "kernels/kernels.h"
#include "model/convert.h"
#include "model/kernel_tables.h"
#include "model/packed_gguf.h"
#include "model/weights.h"
#include "test_files.h"

namespace anser {
namespace {

// Random weights whose rows fit the K-quants' super-blocks; the head's 300 rows leave rows over
// after the last whole tile of 8 and of 16.
std::shared_ptr<const Model> RandomModel() {
  ModelConfig c;
  c.n_layer = 2;
  c.n_embd = 256;
  c.n_head = 4;
  c.head_size = 64;
  c.n_ffn = 512;
  c.n_vocab = 300;
  c.lora_ranks = {16, 16, 8, 32};
  auto m = Model::Random(c, "f32", 11, WeightLayout::kStored);
  EXPECT_TRUE(m.ok()) << m.message();
  return m.ok() ? *m : nullptr;
}

// The targets: each block type (the mixes with q6_K, their head).
ConvertOptions Target(const std::string& name) {
  ConvertOptions options;
  options.dtype = ParseConvertDType(name);
  if (!options.dtype) options.ggml_target = ParseGgmlTarget(name);
  return options;
}
const char* const kTargets[] = {"q8_0", "q5_0",   "q4_0",   "q4_1",   "q5_1",  "iq4_nl",
                                "Q2_K", "Q3_K_M", "Q4_K_M", "Q5_K_M", "iq4_xs"};

std::vector<const CpuKernels*> PackingTables() {
  std::vector<const CpuKernels*> tables;
  for (const CpuKernels* k : AllKernels()) {
    if (PackedLayout(*k) != MatLayout::kRows) tables.push_back(k);
  }
  return tables;
}

std::string FileBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

std::vector<float> Logits(const std::string& path, const CpuKernels& table,
                          std::shared_ptr<const Model>* keep) {
  testing::SelectKernelsNamed(table.name);
  auto model = Model::Load(path);
  testing::ResetKernels();
  EXPECT_TRUE(model.ok()) << model.message();
  if (!model.ok()) return {};
  *keep = *model;
  std::vector<int> tokens;
  for (int i = 0; i < 9; ++i) tokens.push_back((i * 7919 + 13) % 300);
  Session session(*model, {1});
  State state((*model)->config());
  std::vector<float> logits;
  testing::SelectKernelsNamed(table.name);
  session.Prefill(state, tokens, true, &logits);
  testing::ResetKernels();
  return logits;
}

// Both files loaded by `table`, their logits bitwise equal; the models (null where one failed
// to load) for the caller's checks of their weights.
struct LoadedPair {
  std::shared_ptr<const Model> stored, packed;
};
LoadedPair ExpectSameLogits(const std::string& stored, const std::string& packed,
                            const CpuKernels& table) {
  LoadedPair loaded;
  const std::vector<float> expected = Logits(stored, table, &loaded.stored);
  const std::vector<float> got = Logits(packed, table, &loaded.packed);
  EXPECT_EQ(got.size(), expected.size());
  EXPECT_FALSE(got.empty());
  if (got.size() == expected.size()) {
    EXPECT_EQ(std::memcmp(got.data(), expected.data(), got.size() * sizeof(float)), 0);
  }
  return loaded;
}

// The line of /proc/self/maps whose range holds `p`: "perms … path".
std::string MappingOf(const void* p) {
  std::ifstream maps("/proc/self/maps");
  std::string line;
  const auto at = reinterpret_cast<uintptr_t>(p);
  while (std::getline(maps, line)) {
    std::istringstream fields(line);
    std::string range;
    fields >> range;
    const size_t dash = range.find('-');
    const uintptr_t begin = std::stoull(range.substr(0, dash), nullptr, 16);
    const uintptr_t end = std::stoull(range.substr(dash + 1), nullptr, 16);
    if (at >= begin && at < end) return line;
  }
  return "";
}

bool InReadOnlyMappingOf(const void* p, const std::string& file) {
  const std::string path = std::filesystem::canonical(file).string();
  const std::string line = MappingOf(p);
  std::istringstream fields(line);
  std::string range, perms;
  fields >> range >> perms;
  const bool of_file =
      line.size() >= path.size() && line.compare(line.size() - path.size(), path.size(), path) == 0;
  return of_file && perms == "r--p";
}

class PackedFile : public ::testing::TestWithParam<const char*> {};

TEST_P(PackedFile, GivesTheStandardFilesLogitsOnEveryTable) {
  const auto model = RandomModel();
  ASSERT_TRUE(model);
  const std::string target = GetParam();
  const std::string stored = testing::ScratchPath("packed_layout." + target + ".gguf");
  ASSERT_TRUE(SaveModel(*model, stored, Target(target)).ok());
  for (const CpuKernels* packer : PackingTables()) {
    SCOPED_TRACE(target + " packed for " + packer->name);
    const std::string packed =
        testing::ScratchPath("packed_layout." + target + "." + packer->name + ".gguf");
    ConvertOptions options = Target(target);
    options.pack_for = packer;
    const Status saved = SaveModel(*model, packed, options);
    ASSERT_TRUE(saved.ok()) << saved.message();
    const std::string before = FileBytes(packed);

    auto meta = LoadGguf(packed, GgufRead::kMetadata);
    ASSERT_TRUE(meta.ok()) << meta.message();
    EXPECT_EQ(meta->metadata.Find("general.architecture")->s, "anser-rwkv7-packed");
    EXPECT_EQ(meta->metadata.Find("anser.packed.kernels")->s, packer->name);
    EXPECT_EQ(meta->metadata.Find("anser.packed.layout")->s, MatLayoutName(PackedLayout(*packer)));
    // Every projection and the head: six a layer.
    EXPECT_EQ(meta->metadata.Find("anser.packed.tensors")->items.size(), 2u * 6 + 1);

    for (const CpuKernels* loader : AllKernels()) {
      SCOPED_TRACE(std::string("loaded by ") + loader->name);
      const LoadedPair loaded = ExpectSameLogits(stored, packed, *loader);
      ASSERT_TRUE(loaded.stored && loaded.packed);
      const Weights* w_stored = &loaded.stored->weights();
      const Weights* w_packed = &loaded.packed->weights();
      EXPECT_EQ(w_stored->file_layout(), MatLayout::kRows);
      EXPECT_FALSE(w_stored->file_layout_in_place());
      EXPECT_EQ(w_packed->file_layout(), PackedLayout(*packer));
      const bool in_place = PackedLayout(*loader) == PackedLayout(*packer);
      EXPECT_EQ(w_packed->file_layout_in_place(), in_place);
      for (const MatRef* m : {&w_packed->head, &w_packed->layer(1).ffn_value}) {
        EXPECT_EQ(InReadOnlyMappingOf(m->data, packed), in_place) << MappingOf(m->data);
        EXPECT_EQ(m->layout, PackedLayout(*loader));
      }
    }
    EXPECT_EQ(FileBytes(packed), before);

    // Read as stored (convert, training), the packed matrices are the standard file's rows.
    auto rows = Model::Load(packed, WeightLayout::kStored);
    ASSERT_TRUE(rows.ok()) << rows.message();
    const std::string back = testing::ScratchPath("packed_layout.back.gguf");
    const std::string again = testing::ScratchPath("packed_layout.again.gguf");
    auto standard = Model::Load(stored, WeightLayout::kStored);
    ASSERT_TRUE(standard.ok());
    ASSERT_TRUE(SaveModel(**rows, back, ConvertOptions{}).ok());
    ASSERT_TRUE(SaveModel(**standard, again, ConvertOptions{}).ok());
    EXPECT_EQ(FileBytes(back), FileBytes(again));
  }
}

INSTANTIATE_TEST_SUITE_P(Targets, PackedFile, ::testing::ValuesIn(kTargets));

// Every block type is held packed (PackedFile above: each target's every projection and head,
// round-tripping to the standard file's logits and bytes); the float types are not.
TEST(PackedLayout, HoldsEveryBlockTypePacked) {
  for (DType dtype :
       {DType::kQ8_0, DType::kQ5_0, DType::kQ4_0, DType::kQ4_1, DType::kQ5_1, DType::kIQ4_NL,
        DType::kQ2_K, DType::kQ3_K, DType::kQ4_K, DType::kQ5_K, DType::kQ6_K, DType::kIQ4_XS}) {
    EXPECT_TRUE(PackedFileHolds(dtype)) << DTypeName(dtype);
  }
  for (DType dtype : {DType::kF32, DType::kF16, DType::kBF16}) EXPECT_FALSE(PackedFileHolds(dtype));
}

TEST(PackedLayoutErrors, AreClear) {
  const auto model = RandomModel();
  ASSERT_TRUE(model);
  auto message = [&](const std::string& target, const CpuKernels& table, const std::string& out) {
    ConvertOptions options = Target(target);
    options.pack_for = &table;
    return SaveModel(*model, testing::ScratchPath(out), options).message();
  };
  EXPECT_NE(message("q8_0", RefKernels(), "e.gguf").find("no packed layout"), std::string::npos);
  for (const CpuKernels* k : PackingTables()) {
    EXPECT_NE(message("f16", *k, "e.gguf").find("no projection"), std::string::npos);
    EXPECT_NE(message("f16", *k, "e.pth").find("GGUF only"), std::string::npos);
  }
}

// A packed file whose layout keys are wrong, or name what is not a packed matrix, is refused.
void ExpectBadKeysRefused(const Model& model, const CpuKernels& table) {
  ConvertOptions options = Target("q8_0");
  options.pack_for = &table;
  const std::string packed = testing::ScratchPath("packed_layout.keys.gguf");
  ASSERT_TRUE(SaveModel(model, packed, options).ok());
  auto gguf = LoadGguf(packed);
  ASSERT_TRUE(gguf.ok());
  std::vector<TensorSource> sources;
  for (const TensorView& t : gguf->tensors.tensors()) {
    TensorSource s;
    s.name = t.name;
    s.dtype = t.dtype;
    s.shape = t.shape;
    s.produce = [t](const ByteSink& sink) { return sink(t.data, t.nbytes()); };
    sources.push_back(std::move(s));
  }
  auto rewritten = [&](const std::string& key, GgufValue value) {
    GgufMetadata m = gguf->metadata;
    m.Set(key, std::move(value));
    const std::string path = testing::ScratchPath("packed_layout.bad.gguf");
    EXPECT_TRUE(SaveGguf(path, m, sources).ok());
    return Model::Load(path).message();
  };
  EXPECT_NE(rewritten("anser.packed.version", GgufValue::U32(99)).find("version"),
            std::string::npos);
  EXPECT_NE(rewritten("anser.packed.layout", GgufValue::String("tiles32")).find("tiles8"),
            std::string::npos);
  EXPECT_NE(rewritten("anser.packed.tensors",
                      GgufValue::Array(GgufType::kString, {GgufValue::String("x")}))
                .find("'x'"),
            std::string::npos);
  EXPECT_NE(
      rewritten("anser.packed.tensors",
                GgufValue::Array(GgufType::kString, {GgufValue::String("token_embd_norm.weight")}))
          .find("not a matrix"),
      std::string::npos);
}

TEST(PackedLayoutErrors, BadKeysAreRefused) {
  const auto model = RandomModel();
  ASSERT_TRUE(model);
  // One table that packs is enough (on a CPU without AVX2 there is none to write for).
  for (const CpuKernels* table : PackingTables()) {
    ExpectBadKeysRefused(*model, *table);
    break;
  }
}
}  // namespace
}  // namespace anser
