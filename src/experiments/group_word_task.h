// The group word problem as the RWKV-7 paper (§7.6) takes it from Merrill et al. 2024: a start
// token, then `len` group elements (one token each); every element's position is labelled with
// the running product of the elements so far (g1·g2·…·gt). Token ids: the elements 0 … n−1,
// the start token n. The start position has no label.
//
// Training data: all n² length-2 sequences (one training row in eight is the next of them, in a
// shuffled cycle, its positions after the second element unlabelled) and random sequences of
// the target length; validation: held-out random sequences of the target length (a training
// sequence equal to one of them is drawn again).
#pragma once

#include <unordered_set>

#include "experiments/groups.h"
#include "experiments/synthetic_task.h"

namespace anser {

class GroupWordTask : public SyntheticTask {
 public:
  // `len` ≥ 3 elements a sequence; `val_sequences` held out, drawn from `seed`.
  static Result<GroupWordTask> Make(FiniteGroup group, int64_t len, int64_t val_sequences,
                                    int64_t val_batch, uint64_t seed);

  int vocab_size() const override { return group_.order() + 1; }
  int64_t seq_len() const override { return len_ + 1; }
  Batch TrainBatch(int64_t batch, SplitMix64& rng) override;
  const std::vector<Batch>& validation() const override { return validation_; }

  const FiniteGroup& group() const { return group_; }
  int start_token() const { return group_.order(); }

 private:
  GroupWordTask(FiniteGroup group, int64_t len) : group_(std::move(group)), len_(len) {}
  // Writes one sequence of `n` random elements (n ≤ len) padded to len+1 tokens, and its labels.
  void Labelled(const int* elements, int64_t n, int* inputs, int* targets) const;

  FiniteGroup group_;
  int64_t len_;
  std::vector<int> pair_order_;   // the n² length-2 sequences (a·n + b), shuffled
  size_t next_pair_ = 0;  // position in pair_order_ of the next training pair
  std::unordered_set<uint64_t> held_out_;
  std::vector<Batch> validation_;
};

}  // namespace anser
