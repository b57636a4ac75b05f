// `anser experiment ablation`: App. K of the RWKV-7 paper (Table 19) at this machine's scale.
// The full model and each ablation are trained on the same text with the same size, steps and
// data order, for each of several seeds (the seed sets the init and the data order); the
// validation loss is compared per variant (mean ± sample standard deviation over the seeds)
// with the paper's (MiniPile, 6 layers × 768), and each ablation's gap to the full model with
// the seed noise.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "experiments/results.h"
#include "train/trainer.h"

namespace anser {

// The four ablations of Table 19, after the full model.
std::vector<ModelVariant> AblationVariants();

struct AblationOptions {
  std::string data;  // the text file
  int layers = 2, width = 64, head_size = 16;
  int seeds = 3;  // seeds 1 … seeds
  std::vector<ModelVariant> variants;
  TrainOptions train;  // steps, batch, ctx, lr, evaluation; the seed is set per run
};

struct AblationRun {
  ModelVariant variant;
  uint64_t seed = 0;
  double val_loss = 0.0;
  double seconds = 0.0;
  std::vector<LogRow> log;
};

// variant, seed, layers, width, steps, val_loss, seconds
RunRecord AblationRecord(const AblationRun& run, const AblationOptions& options);

// One variant over the seeds.
struct AblationSummary {
  ModelVariant variant;
  double mean = 0.0, sd = 0.0;  // validation loss, nats per byte
  double paper = 0.0;           // the paper's validation loss
  // The gap to the full model against the seed noise: +1 worse than full beyond the noise
  // (|Δ| > 2·√(sd²/n + sd_full²/n)), −1 better beyond it, 0 within it; always 0 for full.
  int verdict = 0;
};
std::vector<AblationSummary> SummariseAblation(const AblationOptions& options,
                                               const std::vector<AblationRun>& runs);

struct AblationCallbacks {
  std::function<void(const std::string& name, int index, int total)> start;
  std::function<void(const LogRow& row, int64_t steps)> step;
  std::function<void(const AblationRun&)> done;
};

// Each run trains in `dir`/runs/<variant>-seed<k>/ (model.pth, log.csv, as anser train).
Result<std::vector<AblationRun>> RunAblation(const AblationOptions& options, const std::string& dir,
                                             const AblationCallbacks& callbacks);

// results.csv, curves.csv (validation loss against step) and summary.md.
Status WriteAblationOutputs(const std::string& dir, const AblationOptions& options,
                            const std::vector<AblationRun>& runs, const std::string& command);

}  // namespace anser
