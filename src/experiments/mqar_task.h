// Multi-query associative recall in the Zoology format the RWKV-7 paper uses (§7.3; Arora et
// al. 2023, zoology/data/associative_recall.py): a vocabulary of 8192 ids, K key–value pairs
// first (keys drawn without repeats from [1, 4096), values from [4096, 8192)), then the query
// region, where each key appears once, at pair slot g (token 2g of the region) with g drawn
// without replacement with weight (g+1)^(a−1), a = 0.01 (short gaps far likelier); every other
// token of the region is random in [0, 8192). A query position is labelled with its key's value
// (the next-token target); no other position is labelled.
#pragma once

#include <unordered_set>

#include "experiments/synthetic_task.h"

namespace anser {

struct MqarShape {
  int64_t seq_len = 64;  // T: even, at least 4·pairs
  int64_t pairs = 4;     // K
  int vocab = 8192;
  double power_a = 0.01;
};

class MqarTask : public SyntheticTask {
 public:
  static Result<MqarTask> Make(const MqarShape& shape, int64_t val_sequences, int64_t val_batch,
                               uint64_t seed);

  int vocab_size() const override { return shape_.vocab; }
  int64_t seq_len() const override { return shape_.seq_len; }
  Batch TrainBatch(int64_t batch, SplitMix64& rng) override;
  const std::vector<Batch>& validation() const override { return validation_; }

  // One example of the task drawn from `rng` into inputs/targets (seq_len each).
  void Sample(SplitMix64& rng, int* inputs, int* targets) const;

 private:
  explicit MqarTask(const MqarShape& shape);

  MqarShape shape_;
  std::vector<double> slot_weight_;  // (g+1)^(a−1) for each pair slot g of the query region
  std::unordered_set<uint64_t> held_out_;
  std::vector<Batch> validation_;
};

}  // namespace anser
