// Deterministic fuzzing of the loaders: random bytes and mutated valid files (bit flips,
// truncations, overwrites aimed at the pickle and the zip directory) must each give OK or an
// error — never a crash, a hang or (under ASan/UBSan) undefined behaviour. Fixed seeds keep
// failures reproducible; the case counts keep the run to seconds under sanitizers.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "io/formats.h"
#include "test_files.h"

namespace anser {
namespace {

std::string TempPath(const std::string& name) { return testing::ScratchPath(name); }
using testing::ReadAll;
using testing::WriteAll;
using testing::Checksum;


// A small valid torch.save archive with a few dtypes and shapes, written by the library.
std::string SeedPth() {
  static const std::string bytes = [] {
    static float f32[12] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
    static uint16_t half[4] = {0x3c00, 0x4000, 0x3f80, 0x4040};
    const std::string path = TempPath("seed.pth");
    const Status s = SaveTorchPth(path, {{"a.weight", DType::kF32, {3, 4}, f32},
                                         {"b", DType::kF16, {4}, half},
                                         {"c", DType::kBF16, {2, 1, 2}, half},
                                         {"d", DType::kF32, {}, f32}});
    EXPECT_TRUE(s.ok()) << s.message();
    return ReadAll(path);
  }();
  return bytes;
}

std::string SeedSafetensors() {
  const std::string header =
      R"({"__metadata__":{"format":"pt"},"x":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]},)"
      R"("y":{"dtype":"BF16","shape":[3],"data_offsets":[16,22]}})";
  std::string out(8, '\0');
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((header.size() >> (8 * i)) & 0xff);
  return out + header + std::string(24, '\x3f');
}

enum class Mutation { kBitFlip, kTruncate, kOverwrite, kInsertOrErase };

std::string Mutate(std::string s, std::mt19937_64& rng, size_t focus_begin, size_t focus_end) {
  if (s.empty()) return s;
  auto pick = [&](size_t lo, size_t hi) {  // a position in [lo, hi)
    return lo + static_cast<size_t>(rng() % std::max<size_t>(hi - lo, 1));
  };
  const int edits = 1 + static_cast<int>(rng() % 4);
  for (int e = 0; e < edits && !s.empty(); ++e) {
    // The focus, clamped to what earlier edits left of the file.
    const size_t lo = std::min(focus_begin, s.size() - 1);
    const size_t hi = std::min(std::max(focus_end, lo + 1), s.size());
    switch (static_cast<Mutation>(rng() % 4)) {
      case Mutation::kBitFlip:
        s[pick(lo, hi)] ^= static_cast<char>(1u << (rng() % 8));
        break;
      case Mutation::kTruncate:
        s.resize(pick(0, s.size()));
        break;
      case Mutation::kOverwrite: {
        // Interesting values: zero, all-ones, and bytes that look like sizes or opcodes.
        static const uint8_t kValues[] = {0x00, 0xff, 0x7f, 0x80, 0x01, 'K', 'X', '(', 'R', 0x8a};
        const size_t at = pick(lo, hi);
        const size_t n = std::min<size_t>(1 + rng() % 8, s.size() - std::min(at, s.size()));
        for (size_t i = 0; i < n; ++i) s[at + i] = static_cast<char>(kValues[rng() % 10]);
        break;
      }
      case Mutation::kInsertOrErase: {
        const size_t at = pick(lo, hi);
        if (rng() % 2) {
          s.insert(at, 1 + rng() % 16, static_cast<char>(rng()));
        } else {
          s.erase(at, std::min<size_t>(1 + rng() % 16, s.size() - at));
        }
        break;
      }
    }
  }
  return s;
}

template <typename Loader>
void RunCase(const std::string& path, const std::string& bytes, Loader load) {
  WriteAll(path, bytes);
  auto r = load(path);
  if (r.ok()) {
    Checksum(*r);
  } else {
    EXPECT_FALSE(r.message().empty());
  }
}

// Offsets of the pickle and of the central directory inside the seed archive.
std::pair<size_t, size_t> Find(const std::string& s, const std::string& what, size_t len) {
  const size_t at = s.find(what);
  return {at == std::string::npos ? 0 : at, at == std::string::npos ? s.size() : at + len};
}

TEST(LoaderFuzz, TorchPthMutations) {
  const std::string seed = SeedPth();
  ASSERT_FALSE(seed.empty());
  const std::string path = TempPath("mutant.pth");
  // The pickle starts at 64 (aligned) and runs to the first data descriptor.
  const auto [pkl_begin, pkl_end] = std::pair<size_t, size_t>{64, seed.find("PK\x07\x08")};
  const auto [dir_begin, dir_end] = Find(seed, "PK\x01\x02", seed.size());
  std::mt19937_64 rng(20240611);
  for (int i = 0; i < 300; ++i) {
    size_t lo = 0, hi = seed.size();
    if (i % 3 == 0) std::tie(lo, hi) = std::pair{pkl_begin, pkl_end};
    if (i % 3 == 1) std::tie(lo, hi) = std::pair{dir_begin, dir_end};
    RunCase(path, Mutate(seed, rng, lo, hi), LoadTorchPth);
  }
}

TEST(LoaderFuzz, TorchPthRandomBytes) {
  const std::string path = TempPath("random.pth");
  std::mt19937_64 rng(7);
  for (int i = 0; i < 100; ++i) {
    std::string bytes(rng() % 2048, '\0');
    for (char& c : bytes) c = static_cast<char>(rng());
    // Half the cases end in a plausible end-of-central-directory record, to get past it.
    if (i % 2 == 0) {
      bytes += std::string("PK\x05\x06\0\0\0\0", 8);
      for (int k = 0; k < 14; ++k) bytes.push_back(k >= 12 ? '\0' : static_cast<char>(rng() % 4));
    }
    RunCase(path, bytes, LoadTorchPth);
  }
}

TEST(LoaderFuzz, SafetensorsMutationsAndRandomBytes) {
  const std::string seed = SeedSafetensors();
  const std::string path = TempPath("mutant.safetensors");
  std::mt19937_64 rng(99);
  for (int i = 0; i < 300; ++i) {
    RunCase(path, Mutate(seed, rng, 0, seed.size()), LoadSafetensors);
  }
  for (int i = 0; i < 50; ++i) {
    std::string bytes(rng() % 512, '\0');
    for (char& c : bytes) c = static_cast<char>(rng());
    RunCase(path, bytes, LoadSafetensors);
  }
}

}  // namespace
}  // namespace anser
