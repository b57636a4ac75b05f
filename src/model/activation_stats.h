// The statistics of llama.cpp's importance matrix, collected by Anser's own forward pass: per
// input column of each large matrix, the sum of the squared inputs over every token run
// (Session::CollectActivations), under the matrix's GGUF name.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "io/imatrix_file.h"

namespace anser {

class ActivationStats {
 public:
  // n inputs of `cols` values each, one after another.
  void Add(const std::string& matrix, const float* x, int64_t n, int64_t cols);

  // Sums and counts as an importance matrix (rounded to float32, as the files hold them).
  Imatrix ToImatrix() const;

 private:
  struct Sums {
    std::vector<double> sum2;
    int64_t count = 0;
  };
  std::map<std::string, Sums> sums_;
};

}  // namespace anser
