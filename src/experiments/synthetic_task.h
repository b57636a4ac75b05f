// A synthetic task for the experiments: sequences of plain token ids (no tokenizer) with a
// label on some positions (the others kNoTarget), an endless training stream drawn from a
// random generator, and a fixed held-out validation set.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "train/batch.h"
#include "train/rng.h"

namespace anser {

class SyntheticTask {
 public:
  virtual ~SyntheticTask() = default;

  virtual int vocab_size() const = 0;
  virtual int64_t seq_len() const = 0;
  // B training sequences drawn from `rng`; none equals a validation sequence.
  virtual Batch TrainBatch(int64_t batch, SplitMix64& rng) = 0;
  // The held-out sequences, in batches.
  virtual const std::vector<Batch>& validation() const = 0;
};

// FNV-1a of a token sequence: how the tasks keep training sequences out of validation.
uint64_t SequenceHash(const int* tokens, int64_t n);

// Splits `rows` sequences of `seq_len` (inputs and targets back to back) into batches of at
// most `batch` sequences.
std::vector<Batch> SplitIntoBatches(const std::vector<int>& inputs, const std::vector<int>& targets,
                                    int64_t seq_len, int64_t batch);

}  // namespace anser
