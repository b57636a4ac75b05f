#include "experiments/synthetic_task.h"

#include <algorithm>

namespace anser {

uint64_t SequenceHash(const int* tokens, int64_t n) {
  uint64_t h = 1469598103934665603ull;
  for (int64_t i = 0; i < n; ++i) {
    h ^= static_cast<uint32_t>(tokens[i]);
    h *= 1099511628211ull;
  }
  return h;
}

std::vector<Batch> SplitIntoBatches(const std::vector<int>& inputs, const std::vector<int>& targets,
                                    int64_t seq_len, int64_t batch) {
  const int64_t rows = static_cast<int64_t>(inputs.size()) / seq_len;
  std::vector<Batch> out;
  for (int64_t first = 0; first < rows; first += batch) {
    Batch b;
    b.batch = std::min(batch, rows - first);
    b.n_tokens = seq_len;
    const auto begin = static_cast<std::ptrdiff_t>(first * seq_len);
    const auto end = static_cast<std::ptrdiff_t>((first + b.batch) * seq_len);
    b.inputs.assign(inputs.begin() + begin, inputs.begin() + end);
    b.targets.assign(targets.begin() + begin, targets.begin() + end);
    out.push_back(std::move(b));
  }
  return out;
}

}  // namespace anser
