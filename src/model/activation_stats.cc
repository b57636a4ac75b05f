#include "model/activation_stats.h"

#include "core/check.h"

namespace anser {

void ActivationStats::Add(const std::string& matrix, const float* x, int64_t n, int64_t cols) {
  Sums& s = sums_[matrix];
  if (s.sum2.empty()) s.sum2.assign(static_cast<size_t>(cols), 0.0);
  ANSER_CHECK(static_cast<int64_t>(s.sum2.size()) == cols, "ActivationStats: a matrix's width changed");
  for (int64_t t = 0; t < n; ++t) {
    for (int64_t c = 0; c < cols; ++c) s.sum2[static_cast<size_t>(c)] += static_cast<double>(x[t * cols + c]) * x[t * cols + c];
  }
  s.count += n;
}

Imatrix ActivationStats::ToImatrix() const {
  Imatrix m;
  for (const auto& [name, s] : sums_) {
    Imatrix::Entry& e = m.entries[name];
    e.sum2.assign(s.sum2.begin(), s.sum2.end());
    e.count = static_cast<float>(s.count);
  }
  return m;
}

}  // namespace anser
