// Reading the reference forward passes of ../shared/fixtures (see its README.md).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "anser/model.h"

namespace anser::testing {

struct FixtureCase {
  std::string name;
  std::string model;             // checkpoint file inside the fixture folder
  std::vector<int> tokens;
  std::vector<int> positions;    // stored rows
  std::vector<float> logits;     // [positions][vocab]
};

struct Fixture {
  std::string dir;               // absolute folder
  std::string default_model;
  int vocab = 0;
  std::vector<FixtureCase> cases;
};

std::string SharedDir();
Fixture ReadFixture(const std::string& folder);  // e.g. "tiny-rwkv7-834K"

// Empty when `got` matches the reference row within max |Δ| ≤ 1e-4·std(ref) with the same
// argmax; otherwise a description of the mismatch.
std::string CompareRow(const float* got, const float* ref, int vocab);

// The gguf-quants README's measure, accumulated over rows: each logit's difference from its
// reference row divided by that row's standard deviation; its maximum and rms.
class LogitDeviation {
 public:
  void AddRow(const float* got, const float* ref, int vocab);
  double max() const { return max_; }
  double rms() const;
  int64_t rows() const { return rows_; }

 private:
  double max_ = 0, sum_sq_ = 0;
  int64_t n_ = 0, rows_ = 0;
};

}  // namespace anser::testing
