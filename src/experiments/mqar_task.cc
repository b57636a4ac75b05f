#include "experiments/mqar_task.h"

#include <cmath>

namespace anser {
namespace {

// `count` distinct values of [lo, hi), in the order drawn (count is far below hi − lo here,
// so redrawing a repeat is cheap).
std::vector<int> DistinctIn(int lo, int hi, int64_t count, SplitMix64& rng) {
  std::vector<int> out;
  std::unordered_set<int> seen;
  while (static_cast<int64_t>(out.size()) < count) {
    const int x = lo + static_cast<int>(rng.Below(static_cast<uint64_t>(hi - lo)));
    if (seen.insert(x).second) out.push_back(x);
  }
  return out;
}

// A uniform draw in [0, 1).
double Unit(SplitMix64& rng) { return static_cast<double>(rng.Next() >> 11) / 9007199254740992.0; }

}  // namespace

MqarTask::MqarTask(const MqarShape& shape) : shape_(shape) {
  const int64_t slots = (shape.seq_len - 2 * shape.pairs) / 2;
  for (int64_t g = 0; g < slots; ++g)
    slot_weight_.push_back(std::pow(static_cast<double>(g + 1), shape.power_a - 1.0));
}

Result<MqarTask> MqarTask::Make(const MqarShape& shape, int64_t val_sequences, int64_t val_batch,
                                uint64_t seed) {
  if (shape.pairs <= 0 || shape.seq_len % 2 != 0 || 4 * shape.pairs > shape.seq_len) {
    return Status::Error("[mqar] --seq-len " + std::to_string(shape.seq_len) + " --pairs " +
                         std::to_string(shape.pairs) +
                         ": the length must be even and at least 4 × the pairs (Zoology's rule)");
  }
  if (shape.vocab < 4 || shape.pairs >= shape.vocab / 2) {
    return Status::Error("[mqar] a vocabulary of " + std::to_string(shape.vocab) +
                         " ids cannot hold " + std::to_string(shape.pairs) + " distinct keys");
  }
  if (val_sequences <= 0 || val_batch <= 0)
    return Status::Error("[mqar] the validation set needs at least one sequence");
  MqarTask task(shape);
  SplitMix64 rng(seed ^ 0x6d716172ull);
  const int64_t T = shape.seq_len;
  std::vector<int> inputs(static_cast<size_t>(val_sequences * T)), targets(inputs.size());
  for (int64_t s = 0; s < val_sequences; ++s) {
    task.Sample(rng, inputs.data() + s * T, targets.data() + s * T);
    task.held_out_.insert(SequenceHash(inputs.data() + s * T, T));
  }
  task.validation_ = SplitIntoBatches(inputs, targets, T, val_batch);
  return task;
}

void MqarTask::Sample(SplitMix64& rng, int* inputs, int* targets) const {
  const int64_t K = shape_.pairs, T = shape_.seq_len;
  const int half = shape_.vocab / 2;
  const std::vector<int> keys = DistinctIn(1, half, K, rng);
  const std::vector<int> values = DistinctIn(half, shape_.vocab, K, rng);
  for (int64_t t = 0; t < T; ++t) targets[t] = kNoTarget;
  for (int64_t i = 0; i < K; ++i) {
    inputs[2 * i] = keys[static_cast<size_t>(i)];
    inputs[2 * i + 1] = values[static_cast<size_t>(i)];
  }
  // Random tokens everywhere in the query region, then each key at its slot.
  for (int64_t t = 2 * K; t < T; ++t)
    inputs[t] = static_cast<int>(rng.Below(static_cast<uint64_t>(shape_.vocab)));
  // Weighted draws without replacement: each slot drawn in proportion to its weight among the
  // slots still free (numpy's choice(replace=False, p=…), which Zoology uses).
  std::vector<double> weight = slot_weight_;
  double total = 0;
  for (double w : weight) total += w;
  for (int64_t i = 0; i < K; ++i) {
    double u = Unit(rng) * total;
    size_t g = 0;
    for (; g + 1 < weight.size() && u >= weight[g]; ++g) u -= weight[g];
    while (weight[g] == 0) --g;  // rounding carried u past the last free slot
    total -= weight[g];
    weight[g] = 0;
    const int64_t at = 2 * K + 2 * static_cast<int64_t>(g);
    inputs[at] = keys[static_cast<size_t>(i)];
    targets[at] = values[static_cast<size_t>(i)];
  }
}

Batch MqarTask::TrainBatch(int64_t batch, SplitMix64& rng) {
  const int64_t T = shape_.seq_len;
  Batch b;
  b.batch = batch;
  b.n_tokens = T;
  b.inputs.resize(static_cast<size_t>(batch * T));
  b.targets.resize(b.inputs.size());
  for (int64_t s = 0; s < batch; ++s) {
    do {
      Sample(rng, b.inputs.data() + s * T, b.targets.data() + s * T);
    } while (held_out_.count(SequenceHash(b.inputs.data() + s * T, T)) != 0);
  }
  return b;
}

}  // namespace anser
