// A training batch: B sequences of T input tokens and the T next tokens each is trained to predict.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "anser/status.h"

namespace anser {

// The target of a position without a label (synthetic tasks label only some positions): it
// takes no part in the loss, its gradient or the accuracy.
constexpr int kNoTarget = -100;  // PyTorch's ignore_index

struct Batch {
  int64_t batch = 0;         // B
  int64_t n_tokens = 0;      // T
  std::vector<int> inputs;   // (B, T) row-major
  std::vector<int> targets;  // (B, T); kNoTarget where a position has no label
};

// Checks B, T > 0, the sizes and that every id is in [0, n_vocab) (targets may be kNoTarget).
Status ValidateBatch(const Batch& batch, int n_vocab);

// Parses {"inputs": [[…], …], "targets": [[…], …]} (same shapes, integer ids). `source` names
// the input in error messages. Ids are range-checked later, by ValidateBatch.
Result<Batch> ParseBatchJson(const std::string& text, const std::string& source);
Result<Batch> ReadBatchJson(const std::string& path);

}  // namespace anser
