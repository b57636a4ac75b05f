// Deterministic fuzzing of the GGUF reader and the rwkv7 mapping: mutated valid files (bit
// flips, byte overwrites aimed at the header, truncations) and random bytes must each load or
// give an error — never crash, hang or (under ASan/UBSan) read out of bounds. Fixed seeds keep
// failures reproducible.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "anser/model.h"
#include "io/formats.h"
#include "model/convert.h"
#include "model/weights.h"
#include "test_files.h"

namespace anser {
namespace {

std::string TempPath(const std::string& name) { return testing::ScratchPath(name); }
using testing::ReadAll;
using testing::WriteAll;
using testing::Checksum;


// A small random rwkv7 model written as GGUF q8_0 (block types, every tensor kind, the
// tokenizer arrays): the seed every mutation starts from.
const std::string& SeedGguf() {
  static const std::string bytes = [] {
    ModelConfig c;
    c.n_layer = 2, c.n_embd = 64, c.n_head = 2, c.head_size = 32, c.n_ffn = 128, c.n_vocab = 256;
    c.lora_ranks = {8, 8, 8, 8};
    auto model = Model::Random(c, "f32", 3);
    EXPECT_TRUE(model.ok()) << model.message();
    ConvertOptions options;
    options.dtype = DType::kQ8_0;
    options.head_dtype = std::nullopt;
    const std::string path = TempPath("seed.gguf");
    const Status s = SaveModel(**model, path, options);
    EXPECT_TRUE(s.ok()) << s.message();
    return ReadAll(path);
  }();
  return bytes;
}

// Loads `bytes` as a GGUF file and, when that works, as an rwkv7 model.
void Exercise(const std::string& bytes) {
  const std::string path = TempPath("case.gguf");
  WriteAll(path, bytes);
  auto file = LoadGguf(path);
  if (!file.ok()) {
    EXPECT_FALSE(file.message().empty());
    return;
  }
  volatile uint64_t sum = Checksum(file->tensors);
  (void)sum;
  auto model = Model::Load(path);
  if (!model.ok()) {
    EXPECT_FALSE(model.message().empty());
  }
}

TEST(GgufFuzz, SeedLoads) {
  WriteAll(TempPath("seed_copy.gguf"), SeedGguf());
  auto model = Model::Load(TempPath("seed_copy.gguf"));
  ASSERT_TRUE(model.ok()) << model.message();
}

TEST(GgufFuzz, HeaderOverwrites) {
  const std::string& seed = SeedGguf();
  // The header (metadata, tokenizer arrays, tensor infos) is what the reader interprets.
  const size_t header = std::min<size_t>(seed.size(), 8192);
  std::mt19937 rng(20240611);
  for (int i = 0; i < 300; ++i) {
    std::string b = seed;
    const int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits; ++e) {
      const size_t at = rng() % header;
      switch (rng() % 3) {
        case 0: b[at] = static_cast<char>(b[at] ^ (1 << (rng() % 8))); break;
        case 1: b[at] = static_cast<char>(rng()); break;
        default: b[at] = static_cast<char>(0xff); break;
      }
    }
    Exercise(b);
  }
}

TEST(GgufFuzz, Truncations) {
  const std::string& seed = SeedGguf();
  std::mt19937 rng(7);
  for (int i = 0; i < 60; ++i) Exercise(seed.substr(0, rng() % seed.size()));
  for (size_t n = 0; n < 64; ++n) Exercise(seed.substr(0, n));
}

TEST(GgufFuzz, RandomBytes) {
  std::mt19937 rng(99);
  for (int i = 0; i < 100; ++i) {
    std::string b = "GGUF";
    b += std::string("\x03\x00\x00\x00", 4);
    const size_t n = rng() % 512;
    for (size_t k = 0; k < n; ++k) b.push_back(static_cast<char>(rng() % (k < 16 ? 4 : 256)));
    Exercise(b);
  }
}

}  // namespace
}  // namespace anser
