#include "experiments/task_trainer.h"

#include <chrono>
#include <cmath>

#include "train/adamw.h"
#include "train/grad.h"
#include "train/init.h"
#include "train/rng.h"

namespace anser {
namespace {

double Since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

Status CheckOptions(const TaskTrainOptions& o) {
  if (o.steps <= 0 || o.batch <= 0)
    return Status::Error("[experiment] --steps and --batch must be positive");
  if (o.eval_every < 0 || o.warmup < 0)
    return Status::Error("[experiment] --eval-every and --warmup must not be negative");
  if (!(o.lr > 0) || !(o.lr_final >= 0) || !(o.weight_decay >= 0) || !(o.grad_clip >= 0))
    return Status::Error("[experiment] --lr must be positive; the decay and clip not negative");
  return Status::Ok();
}

}  // namespace

Result<TaskScore> ScoreOnValidation(const ParamSet& params, const SyntheticTask& task, int threads) {
  double loss = 0.0;
  int64_t labelled = 0, correct = 0, sequences = 0, last_correct = 0;
  for (const Batch& b : task.validation()) {
    ANSER_ASSIGN_OR_RETURN(EvalStats s, EvaluateBatch(params, b, static_cast<const float*>(nullptr), threads));
    loss += s.loss * static_cast<double>(s.labelled);
    labelled += s.labelled;
    for (int64_t q = 0; q < b.batch; ++q) {
      int64_t last = -1;
      for (int64_t t = 0; t < b.n_tokens; ++t) {
        const size_t i = static_cast<size_t>(q * b.n_tokens + t);
        if (b.targets[i] == kNoTarget) continue;
        correct += s.correct[i];
        last = static_cast<int64_t>(i);
      }
      if (last < 0) continue;
      ++sequences;
      last_correct += s.correct[static_cast<size_t>(last)];
    }
  }
  if (labelled == 0) return Status::Error("[experiment] the validation set has no labelled position");
  TaskScore score;
  score.loss = loss / static_cast<double>(labelled);
  score.token_acc = static_cast<double>(correct) / static_cast<double>(labelled);
  score.last_acc = static_cast<double>(last_correct) / static_cast<double>(sequences);
  return score;
}

Result<TaskRunResult> TrainOnTask(SyntheticTask& task, const TaskTrainOptions& o,
                                  const TaskProgress& progress) {
  ANSER_RETURN_IF_ERROR(CheckOptions(o));
  const auto start = std::chrono::steady_clock::now();
  ANSER_ASSIGN_OR_RETURN(ModelConfig config,
                         ScratchConfig(o.layers, o.width, o.head_size, task.vocab_size()));
  config.variant = o.variant;
  TaskRunResult run;
  ANSER_ASSIGN_OR_RETURN(run.params, InitParams(config, o.seed, o.threads));
  ParamSet grads = run.params.ZerosLike();
  std::vector<NamedTensor<float>> m = grads.tensors(), v = grads.tensors();
  SplitMix64 rng(o.seed * 0x9E3779B97F4A7C15ull + 0x7a5c);
  AdamWOptions adam;
  adam.weight_decay = o.weight_decay;
  GradOptions g;
  g.l2wrap = true;
  g.threads = o.threads;
  double loss_sum = 0.0;
  int64_t loss_steps = 0;
  for (int64_t step = 0; step < o.steps; ++step) {
    const Batch batch = task.TrainBatch(o.batch, rng);
    ANSER_ASSIGN_OR_RETURN(const double loss, ComputeGradients(run.params, batch, g, &grads));
    if (!std::isfinite(loss)) {
      return Status::Error("[experiment] the loss became " + std::to_string(loss) + " at step " +
                           std::to_string(step + 1) + ": lower --lr");
    }
    ClipGradNorm(grads.tensors(), o.grad_clip);
    const double lr = ScheduledLr(step, o.steps, o.warmup, o.lr, o.lr_final);
    AdamWStep(run.params.tensors(), grads.tensors(), m, v, lr, step + 1, adam, o.threads);
    run.steps = step + 1;
    loss_sum += loss;
    ++loss_steps;
    const bool evaluate = (o.eval_every > 0 && run.steps % o.eval_every == 0) || run.steps == o.steps;
    if (!evaluate) {
      if (progress) progress(run.steps, loss, nullptr);
      continue;
    }
    CurvePoint point;
    point.step = run.steps;
    point.train_loss = loss_sum / static_cast<double>(loss_steps);
    ANSER_ASSIGN_OR_RETURN(point.val, ScoreOnValidation(run.params, task, o.threads));
    point.seconds = Since(start);
    loss_sum = 0.0, loss_steps = 0;
    run.curve.push_back(point);
    run.val = point.val;
    if (progress) progress(run.steps, loss, &run.curve.back());
    if (o.stop_at > 0 && point.val.token_acc >= o.stop_at) break;
  }
  run.seconds = Since(start);
  return run;
}

}  // namespace anser
