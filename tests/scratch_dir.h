// Scratch folders for tests. CTest runs every test as its own process, two at a time, so a
// fixed file name under testing::TempDir() would be written by one test while another has it
// mapped (SIGBUS). Each test gets a fresh folder named after its process and itself.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <string>

namespace anser::testing {

inline std::string ScratchDir() {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  const std::string test = info == nullptr ? "static" : std::string(info->test_suite_name()) + "." + info->name();
  const std::filesystem::path dir = std::filesystem::path(::testing::TempDir()) /
                                    ("anser_" + std::to_string(::getpid())) / test;
  std::filesystem::create_directories(dir);
  return dir.string();
}

// `name` inside ScratchDir().
inline std::string ScratchPath(const std::string& name) {
  return (std::filesystem::path(ScratchDir()) / name).string();
}

}  // namespace anser::testing
