#include "experiments/group_word_task.h"

#include <numeric>
#include <utility>

namespace anser {
namespace {

constexpr int64_t kPairEvery = 8;  // one training row in eight is a length-2 sequence

}  // namespace

Result<GroupWordTask> GroupWordTask::Make(FiniteGroup group, int64_t len, int64_t val_sequences,
                                          int64_t val_batch, uint64_t seed) {
  if (len < 3) {
    return Status::Error("[group-word] --len " + std::to_string(len) +
                         ": sequences need at least 3 elements (length 2 is in the training set)");
  }
  if (val_sequences <= 0 || val_batch <= 0)
    return Status::Error("[group-word] the validation set needs at least one sequence");
  GroupWordTask task(std::move(group), len);
  const int n = task.group_.order();
  SplitMix64 rng(seed ^ 0x5eedf00dull);
  task.pair_order_.resize(static_cast<size_t>(n) * n);
  std::iota(task.pair_order_.begin(), task.pair_order_.end(), 0);
  for (size_t i = task.pair_order_.size(); i > 1; --i)
    std::swap(task.pair_order_[i - 1], task.pair_order_[rng.Below(i)]);
  const int64_t T = task.seq_len();
  std::vector<int> inputs(static_cast<size_t>(val_sequences * T)), targets(inputs.size());
  std::vector<int> elements(static_cast<size_t>(len));
  for (int64_t s = 0; s < val_sequences; ++s) {
    for (int& e : elements) e = static_cast<int>(rng.Below(static_cast<uint64_t>(n)));
    task.Labelled(elements.data(), len, inputs.data() + s * T, targets.data() + s * T);
    task.held_out_.insert(SequenceHash(inputs.data() + s * T, T));
  }
  task.validation_ = SplitIntoBatches(inputs, targets, T, val_batch);
  return task;
}

void GroupWordTask::Labelled(const int* elements, int64_t n, int* inputs, int* targets) const {
  inputs[0] = start_token();
  targets[0] = kNoTarget;
  int product = group_.identity();
  for (int64_t t = 1; t <= len_; ++t) {
    if (t <= n) {
      product = group_.Multiply(product, elements[t - 1]);
      inputs[t] = elements[t - 1];
      targets[t] = product;
    } else {
      inputs[t] = start_token();  // padding after a short sequence, unlabelled
      targets[t] = kNoTarget;
    }
  }
}

Batch GroupWordTask::TrainBatch(int64_t batch, SplitMix64& rng) {
  const int n = group_.order();
  const int64_t T = seq_len();
  Batch b;
  b.batch = batch;
  b.n_tokens = T;
  b.inputs.resize(static_cast<size_t>(batch * T));
  b.targets.resize(b.inputs.size());
  std::vector<int> elements(static_cast<size_t>(len_));
  for (int64_t s = 0; s < batch; ++s) {
    int* in = b.inputs.data() + s * T;
    int* tg = b.targets.data() + s * T;
    if (s % kPairEvery == kPairEvery - 1) {
      const int pair = pair_order_[next_pair_];
      next_pair_ = (next_pair_ + 1) % pair_order_.size();
      elements[0] = pair / n, elements[1] = pair % n;
      Labelled(elements.data(), 2, in, tg);
      continue;
    }
    do {
      for (int& e : elements) e = static_cast<int>(rng.Below(static_cast<uint64_t>(n)));
      Labelled(elements.data(), len_, in, tg);
    } while (held_out_.count(SequenceHash(in, T)) != 0);
  }
  return b;
}

}  // namespace anser
