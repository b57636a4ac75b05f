// Training a new model on a synthetic task and scoring it by accuracy: the official x070
// initialisation at the given size (with the model switches of `variant`), AdamW with the
// official groups (eps 1e-18, weight decay on the 2-D .weight matrices only), linear warm-up then
// cosine decay, global-norm clipping; validation accuracy every `eval_every` steps, and an
// optional early stop once it is good enough. Deterministic from the seed for a given thread count.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "anser/model.h"
#include "anser/status.h"
#include "experiments/synthetic_task.h"
#include "train/params.h"

namespace anser {

struct TaskTrainOptions {
  int layers = 1, width = 64, head_size = 16;
  ModelVariant variant;
  int64_t steps = 1000, batch = 32, warmup = 50;
  int64_t eval_every = 100;  // and after the last step
  double lr = 1e-3, lr_final = 1e-5, weight_decay = 0.0, grad_clip = 1.0;
  double stop_at = 0.0;  // stop at an evaluation whose val_token_acc reaches this (0: never)
  uint64_t seed = 1;
  int threads = 1;
};

// The validation scores of a model: mean cross-entropy over the labelled positions, the
// accuracy over all of them, and over each sequence's last labelled position.
struct TaskScore {
  double loss = 0.0, token_acc = 0.0, last_acc = 0.0;
};

struct CurvePoint {
  int64_t step = 0;
  double train_loss = 0.0;  // mean over the steps since the previous point
  TaskScore val;
  double seconds = 0.0;
};

struct TaskRunResult {
  int64_t steps = 0;  // steps run: fewer than asked after an early stop
  TaskScore val;      // at the last step run
  double seconds = 0.0;
  std::vector<CurvePoint> curve;
  ParamSet params;
};

// Called after every step with the step number and its loss, and with the curve point when the
// step was evaluated (else null).
using TaskProgress = std::function<void(int64_t step, double loss, const CurvePoint* evaluated)>;

Result<TaskRunResult> TrainOnTask(SyntheticTask& task, const TaskTrainOptions& options,
                                  const TaskProgress& progress);

Result<TaskScore> ScoreOnValidation(const ParamSet& params, const SyntheticTask& task, int threads);

}  // namespace anser
