// `anser experiment group-word`: the state-tracking experiment of the RWKV-7 paper (§7.6,
// Fig. 8). Trains a new model per group, length, model variant and layer count on the group
// word problem (group_word_task.h) and scores its held-out token accuracy. A sweep finds, per
// group, length and variant, the fewest layers whose val_token_acc exceeds the threshold (the
// paper's criterion: > 95 %), trying layer counts in ascending order and stopping at the first.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "experiments/results.h"
#include "experiments/task_trainer.h"

namespace anser {

struct GroupWordOptions {
  std::vector<std::string> groups;
  std::vector<int64_t> lens;
  std::vector<int> layers;  // ascending: every count for a plain run, the range for a sweep
  bool sweep = false;
  std::vector<ModelVariant> variants;
  TaskTrainOptions train;  // the size, optimiser and seed; `layers` is set per run
  int64_t val_sequences = 512;
  double threshold = 0.95;
};

struct GroupWordRun {
  std::string group;
  int64_t len = 0;
  int layers = 0;
  ModelVariant variant;
  TaskRunResult result;
};

// The run's fields: group, len, layers, width, variant, iclr_mult, seed, steps, val_token_acc,
// val_last_acc, seconds.
RunRecord GroupWordRecord(const GroupWordRun& run, const TaskTrainOptions& train);
// "A5 len 16 L2 full" (iclr ×C appended when not 1): a run's name in curves and progress.
std::string GroupWordRunName(const GroupWordRun& run);

using GroupWordCallbacks = ExperimentCallbacks<GroupWordRun>;

Result<std::vector<GroupWordRun>> RunGroupWord(const GroupWordOptions& options,
                                               const GroupWordCallbacks& callbacks);

// A sweep's answer for one group, length and variant: the fewest layers above the threshold,
// or 0 when none in the range got there.
struct MinLayers {
  std::string group;
  int64_t len = 0;
  ModelVariant variant;
  int layers = 0;
};
std::vector<MinLayers> MinimumLayers(const GroupWordOptions& options,
                                     const std::vector<GroupWordRun>& runs);

// results.csv, curves.csv and summary.md (with `command`, the command line that ran it).
Status WriteGroupWordOutputs(const std::string& dir, const GroupWordOptions& options,
                             const std::vector<GroupWordRun>& runs, const std::string& command);

}  // namespace anser
