// Files in tests: scratch folders, whole-file reads and writes, and a check that every byte of a
// loaded store can be read.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "io/formats.h"
#include "io/tensor_store.h"

namespace anser::testing {

// This process's scratch root, removed when the process exits (set ANSER_KEEP_TEST_FILES to
// keep it for a look after a failure): runs of the suite must not fill /tmp.
class ScratchRoot {
 public:
  ScratchRoot()
      : path_(std::filesystem::path(::testing::TempDir()) / ("anser_" + std::to_string(::getpid()))) {}
  ~ScratchRoot() {
    if (std::getenv("ANSER_KEEP_TEST_FILES") != nullptr) return;
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// CTest runs every test as its own process, two at a time, so a fixed file name under
// testing::TempDir() would be written by one test while another has it mapped (SIGBUS). Each
// test gets a folder named after its process and itself.
inline std::string ScratchDir() {
  static const ScratchRoot root;
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  const std::string test = info == nullptr ? "static" : std::string(info->test_suite_name()) + "." + info->name();
  const std::filesystem::path dir = root.path() / test;
  std::filesystem::create_directories(dir);
  return dir.string();
}

// `name` inside ScratchDir().
inline std::string ScratchPath(const std::string& name) {
  return (std::filesystem::path(ScratchDir()) / name).string();
}

// A fixture whose every test runs in a fresh folder of its own (dir_), removed afterwards: for
// tests that run the anser binary there and look at what it leaves.
class FreshDirTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (std::filesystem::temp_directory_path() / "anser_test_XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::filesystem::path dir_;
};

inline std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline void WriteAll(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

// Touches every byte of every view, so a view pointing outside its mapping faults under ASan.
inline uint64_t Checksum(const TensorStore& store) {
  uint64_t sum = 0;
  for (const TensorView& t : store.tensors()) {
    const auto* p = static_cast<const uint8_t*>(t.data);
    for (size_t i = 0; i < t.nbytes(); ++i) sum += p[i];
  }
  return sum;
}

// Writes to `out` a copy of the f32 `.pth` model `in` with value [1] of each named tensor
// replaced: a model with damaged weights. Returns `out`.
inline std::string WriteDamagedCopy(const std::string& in, const std::string& out,
                                    const std::vector<std::pair<std::string, float>>& changes) {
  auto store = LoadTorchPth(in);
  EXPECT_TRUE(store.ok()) << store.message();
  std::vector<std::vector<float>> copies;
  std::vector<TensorView> views;
  copies.reserve(store->tensors().size());
  for (const TensorView& t : store->tensors()) {
    const float* p = static_cast<const float*>(t.data);
    copies.emplace_back(p, p + t.numel());
    for (const auto& [name, value] : changes) {
      if (name == t.name) copies.back()[1] = value;
    }
    TensorView v = t;
    v.data = copies.back().data();
    views.push_back(std::move(v));
  }
  const Status s = SaveTorchPth(out, views);
  EXPECT_TRUE(s.ok()) << s.message();
  return out;
}

}  // namespace anser::testing
