// A training run: the loop of `anser train` as a library object, so the command line and the
// tests drive the same code. Full training (from the official init or a loaded model) or state
// tuning (model frozen, only the initial WKV state learned), AdamW with the official groups,
// warm-up + cosine schedule, clipping, L2Wrap, periodic validation and checkpoints.
//
// The output folder holds model.pth (full training) or state.pth (state tuning), log.csv and
// resume/trainer.bin (master weights, Adam moments, data RNG state, step, log rows). Every
// file except log.csv's per-step appends is written to a temporary and renamed; a resumed run
// rewrites log.csv from the resume file, so it replays exactly the rows of an uninterrupted run.
//
// Data parallel over the processes of a Distributed job (mpirun): every process draws the same
// global batch (the data order is a function of the seed and the global step, never of the
// number of processes) and takes its contiguous share of the sequences; the gradients of the
// shares are summed in one fused allreduce and averaged, and every process applies the same
// AdamW step. The validation batches are shared out the same way. Every evaluation also checks
// that the processes still hold the same weights. Rank 0 alone writes files.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "anser/status.h"
#include "train/adamw.h"
#include "train/batch.h"
#include "train/corpus.h"
#include "train/distributed.h"
#include "train/params.h"
#include "train/rng.h"
#include "train/train_log.h"

namespace anser {

struct TrainOptions {
  int64_t steps = 1000;
  int64_t batch = 8;  // B
  int64_t ctx = 128;  // T
  double lr = 6e-4;
  double lr_final = 1e-5;
  int64_t warmup = 50;  // steps
  double weight_decay = 0.0;
  double grad_clip = 1.0;  // global norm; 0 disables
  double dropout = 0.0;    // residual-stream dropout probability (train/dropout.h)
  bool bf16_products = false;  // --precision bf16: products with bfloat16 inputs (train/gemm.h)
  bool l2wrap = true;
  int64_t eval_every = 100;    // 0: evaluate after the last step only
  int64_t save_every = 100;    // 0: save after the last step only
  int64_t val_tokens = 65536;  // validation tokens scored (0: the whole split)
  bool bf16 = false;           // model.pth in bf16 (the master weights stay float32)
  bool tune_state = false;     // learn only the initial WKV state
  uint64_t seed = 1;
  int threads = 1;  // not part of the run's identity: a resume may change it
};

class Trainer {
 public:
  // A new run into `out_dir` (created if missing; a previous run's files there are replaced).
  // `params` are the starting weights; with tune_state they are frozen and `init_path` (the
  // model file) is recorded so a resume can reload them. `job` (not owned, outliving the
  // trainer) is the job of data-parallel processes; null: this process alone.
  static Result<std::unique_ptr<Trainer>> Create(ParamSet params, Corpus corpus,
                                                 const TrainOptions& options,
                                                 const std::string& out_dir,
                                                 const std::string& init_path,
                                                 Distributed* job = nullptr);

  // The model configuration of the run saved in `out_dir` (to pick its tokenizer).
  static Result<ModelConfig> SavedConfig(const std::string& out_dir);

  // Continues the run saved in `out_dir` from its last checkpoint. `corpus` must be the run's
  // (checked); `threads` replaces the saved thread count. The job may have another number of
  // processes than the run had.
  static Result<std::unique_ptr<Trainer>> Resume(const std::string& out_dir, Corpus corpus,
                                                 int threads, Distributed* job = nullptr);

  // One optimiser step; evaluates and saves when due (and always after the last step). The
  // returned row is the one appended to log.csv.
  Result<LogRow> Step();
  // Writes model.pth / state.pth and the resume file now (rank 0; the others write nothing).
  Status Save();

  bool done() const { return step_ >= options_.steps; }
  int64_t step() const { return step_; }
  const TrainOptions& options() const { return options_; }
  const ParamSet& params() const { return params_; }
  const std::vector<float>& init_state() const { return state_[0].data; }  // state tuning only
  const std::vector<LogRow>& log() const { return log_; }
  const std::string& out_dir() const { return out_dir_; }

  // The validation loss of the current weights (nats/token), over all processes' shares: a
  // collective, like Step (every process of the job calls it).
  Result<double> Evaluate() const;

 private:
  Trainer() = default;
  // Validation windows, gradient buffers and moments, after weights are set; checks that the
  // batch divides among the processes.
  Status Prepare();
  bool writes_files() const { return job_->rank() == 0; }
  // This process's share of the global batch: its contiguous block of sequences.
  Batch Share(const Batch& global) const;
  // Sums the gradients of all processes' shares (one allreduce) and averages them.
  void AverageGradients(std::vector<NamedTensor<float>>& grads);
  // An error unless every process holds the same trainable weights.
  Status CheckSameWeights();
  std::vector<NamedTensor<float>>& trainable() {
    return options_.tune_state ? state_ : params_.tensors();
  }
  std::string MetaJson() const;

  SingleProcess solo_;
  Distributed* job_ = &solo_;
  std::vector<float> fused_;  // AverageGradients' buffer: every gradient, end to end
  TrainOptions options_;
  std::string out_dir_, init_path_;
  Corpus corpus_;
  std::vector<Batch> validation_;
  ParamSet params_, grads_;
  std::vector<NamedTensor<float>> state_, state_grad_;  // tune_state: one (L, H, N, N) tensor each
  std::vector<NamedTensor<float>> m_, v_;               // Adam moments of trainable()
  SplitMix64 rng_{0};
  int64_t step_ = 0, tokens_ = 0;
  double elapsed_before_ = 0.0;  // seconds of earlier sessions of this run
  std::chrono::steady_clock::time_point start_;
  std::vector<LogRow> log_;
};

}  // namespace anser
