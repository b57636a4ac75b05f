// anser train: trains a model from scratch (official x070 init), fine-tunes one (--init), or
// learns an initial state for a frozen model (--tune state), on a text corpus. The loop,
// checkpoints and resume live in the library (train/trainer.h); this file reads the flags,
// prepares the data and shows progress. Under `mpirun -np N` the N processes train one model
// data-parallel (distributed/launch.h); rank 0 alone shows progress, the others only errors.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <thread>

#include "common.h"
#include "distributed/launch.h"
#include "flag_checks.h"
#include "train/corpus.h"
#include "train/init.h"
#include "train/trainer.h"

namespace anser::cli {
namespace {

struct TrainArgs {
  std::string data, init, out, tokenizer = "bytes", vocab, dtype = "f32", tune, ablate;
  std::string precision = "f32";
  int layers = 0, width = 0, head_size = 64;
  double iclr_mult = 1.0;
  bool resume = false, no_l2wrap = false;
  TrainOptions options;
};

std::string Duration(double seconds) {
  const auto s = static_cast<long long>(seconds + 0.5);
  char buf[32];
  if (s >= 3600) {
    std::snprintf(buf, sizeof(buf), "%lldh%02lldm", s / 3600, s / 60 % 60);
  } else {
    std::snprintf(buf, sizeof(buf), "%lldm%02llds", s / 60, s % 60);
  }
  return buf;
}

Result<std::unique_ptr<Tokenizer>> CorpusTokenizer(const TrainArgs& a,
                                                   const std::string& model_path, int n_vocab) {
  if (n_vocab == 256) return MakeByteTokenizer();
  if (n_vocab != 65536) {
    return Status::Error("the model's vocabulary has " + std::to_string(n_vocab) +
                         " tokens; training needs 256 (bytes) or 65536 (World)");
  }
  return TokenizerForModel(model_path, n_vocab, a.vocab);
}

Result<Corpus> ReadCorpus(const TrainArgs& a, const Tokenizer& tokenizer) {
  ANSER_ASSIGN_OR_RETURN(std::string text, ReadInput(a.data));
  return MakeCorpus(text, tokenizer);
}

Result<std::unique_ptr<Trainer>> StartRun(const TrainArgs& a, Distributed& job) {
  if (a.resume) {
    ANSER_ASSIGN_OR_RETURN(ModelConfig config, Trainer::SavedConfig(a.out));
    ANSER_ASSIGN_OR_RETURN(std::unique_ptr<Tokenizer> tok,
                           CorpusTokenizer(a, a.init, config.n_vocab));
    ANSER_ASSIGN_OR_RETURN(Corpus corpus, ReadCorpus(a, *tok));
    return Trainer::Resume(a.out, std::move(corpus), a.options.threads, &job);
  }
  ParamSet params;
  std::unique_ptr<Tokenizer> tok;
  if (!a.init.empty()) {
    if (a.layers != 0 || a.width != 0)
      return Status::Error("--init takes the shape from the model: drop --layers/--width");
    if (!a.ablate.empty() || a.iclr_mult != 1.0)
      return Status::Error("--init takes the switches from the model: drop --ablate/--iclr-mult");
    ANSER_ASSIGN_OR_RETURN(std::shared_ptr<const Model> model, OpenModel(a.init, WeightLayout::kStored));
    params = ParamsFromModel(*model);
    ANSER_ASSIGN_OR_RETURN(tok, OpenTokenizer(a.init, *model, a.vocab));
    if (tok == nullptr)
      return Status::Error(
          "the model's vocabulary has no tokenizer: training needs 256 or 65536 tokens");
  } else {
    if (a.options.tune_state)
      return Status::Error("--tune state needs the model to tune for: pass --init MODEL");
    if (a.layers <= 0 || a.width <= 0) {
      return Status::Error(
          "pass --init MODEL, or --layers L --width C (with --head-size, --tokenizer) for a new "
          "model");
    }
    int n_vocab = 256;
    if (a.tokenizer == "world") {
      n_vocab = 65536;
    } else if (a.tokenizer != "bytes") {
      return Status::Error("--tokenizer is 'bytes' or 'world', not '" + a.tokenizer + "'");
    }
    ANSER_ASSIGN_OR_RETURN(ModelConfig config,
                           ScratchConfig(a.layers, a.width, a.head_size, n_vocab));
    ANSER_ASSIGN_OR_RETURN(config.variant, ParseModelVariant(a.ablate, a.iclr_mult));
    ANSER_ASSIGN_OR_RETURN(params, InitParams(config, a.options.seed, a.options.threads));
    ANSER_ASSIGN_OR_RETURN(tok, CorpusTokenizer(a, a.out + "/model.pth", n_vocab));
  }
  ANSER_ASSIGN_OR_RETURN(Corpus corpus, ReadCorpus(a, *tok));
  return Trainer::Create(std::move(params), std::move(corpus), a.options, a.out, a.init, &job);
}

// An error of one process: printed (by every process that meets it, with its rank when there
// are several), then the whole job ends, so that no process waits for this one in a collective.
int FailJob(Distributed& job, const std::string& message) {
  const int code =
      Fail(job.size() > 1 ? "rank " + std::to_string(job.rank()) + ": " + message : message);
  job.Abort(code);
  return code;
}

int Train(TrainArgs a, Distributed& job);

int RunTrain(TrainArgs a) {
  KeepFreedMemoryForReuse();
  auto job = JoinLaunchedJob();
  if (!job.ok()) return Fail(job.message());
  return Train(std::move(a), *job.value());
}

int Train(TrainArgs a, Distributed& job) {
  a.options.l2wrap = !a.no_l2wrap;
  if (a.dtype != "f32" && a.dtype != "bf16")
    return Fail("--dtype is f32 or bf16, not '" + a.dtype + "'");
  a.options.bf16 = a.dtype == "bf16";
  a.options.bf16_products = a.precision == "bf16";
  if (!a.tune.empty() && a.tune != "state")
    return Fail("--tune takes 'state' (learn the initial state only)");
  a.options.tune_state = a.tune == "state";
  if (a.options.threads <= 0) {
    // The machine's cores shared among the job's processes on it.
    a.options.threads =
        std::max(1, static_cast<int>(std::thread::hardware_concurrency()) / job.local_size());
  }
  auto started = StartRun(a, job);
  if (!started.ok()) return FailJob(job, started.message());
  Trainer& trainer = *started.value();
  if (job.rank() != 0) {
    while (!trainer.done()) {
      auto row = trainer.Step();
      if (!row.ok()) return FailJob(job, row.message());
    }
    return 0;
  }
  const TrainOptions& o = trainer.options();
  const ModelConfig& c = trainer.params().config();
  std::fprintf(
      stderr,
      "anser train: L%d C%d H%d×%d vocab %d, %.2fM params%s; %s B=%lld T=%lld, %lld steps%s%s → "
      "%s\n",
      c.n_layer, c.n_embd, c.n_head, c.head_size, c.n_vocab,
      static_cast<double>(CountParams(c)) / 1e6, VariantNote(c.variant).c_str(),
      o.tune_state ? "state tuning," : "",
      static_cast<long long>(o.batch), static_cast<long long>(o.ctx),
      static_cast<long long>(o.steps),
      a.resume ? (" (resumed at step " + std::to_string(trainer.step()) + ")").c_str() : "",
      job.size() > 1 ? (", " + std::to_string(job.size()) + " processes").c_str() : "",
      a.out.c_str());
  ProgressBar bar("train", o.steps);
  const int64_t first = trainer.step();
  const auto start = std::chrono::steady_clock::now();
  double val = -1.0, tok_s = 0.0;
  while (!trainer.done()) {
    auto row = trainer.Step();
    if (!row.ok()) {
      bar.Finish();
      return FailJob(job, row.message());
    }
    // Smoothed throughput over this session's steps.
    const double elapsed = SecondsSince(start);
    tok_s = static_cast<double>(row->step - first) * static_cast<double>(o.batch * o.ctx) /
            std::max(elapsed, 1e-9);
    if (row->val_loss >= 0) val = row->val_loss;
    const double eta = static_cast<double>(o.steps - row->step) *
                       static_cast<double>(o.batch * o.ctx) / std::max(tok_s, 1e-9);
    char note[160];
    std::snprintf(note, sizeof(note), "loss %.4f val %s %.0f tok/s ETA %s", row->loss,
                  val >= 0 ? std::to_string(val).substr(0, 6).c_str() : "-", tok_s,
                  Duration(eta).c_str());
    bar.Update(row->step, note);
    if (row->val_loss >= 0 && !isatty(fileno(stderr))) {
      std::fprintf(stderr, "step %lld/%lld %s\n", static_cast<long long>(row->step),
                   static_cast<long long>(o.steps), note);
    }
  }
  bar.Finish();
  std::fprintf(
      stderr, "done: %lld steps, val loss %.4f, %.0f tok/s, %s, peak memory %.0f MB; wrote %s/%s\n",
      static_cast<long long>(trainer.step()), val, tok_s, Duration(SecondsSince(start)).c_str(),
      static_cast<double>(PeakRssBytes()) / 1e6, a.out.c_str(),
      o.tune_state ? "state.pth" : "model.pth");
  return 0;
}

}  // namespace

Command AddTrain(CLI::App& app) {
  auto* sub =
      app.add_subcommand("train", "Train, fine-tune or state-tune an RWKV-7 model on a text file");
  auto a = std::make_shared<TrainArgs>();
  TrainOptions& o = a->options;
  sub->add_option("--data", a->data, "Training text (first 90% train, the rest validation)")
      ->required();
  sub->add_option("--init", a->init, "Start from this model (.pth or Hugging Face folder)");
  sub->add_option("--layers", a->layers, "New model: layers")->check(WholeInRange(1, 256));
  sub->add_option("--width", a->width, "New model: width C")->check(WholeInRange(1, 1 << 16));
  sub->add_option("--head-size", a->head_size, "New model: head size")
      ->check(WholeInRange(1, 1024))
      ->capture_default_str();
  sub->add_option("--tokenizer", a->tokenizer, "New model: bytes (256 tokens) or world (65536)")
      ->capture_default_str();
  sub->add_option("--vocab", a->vocab, "World vocabulary file (rwkv_vocab_v20230424.txt)");
  sub->add_option("--out", a->out, "Output folder: model.pth or state.pth, log.csv, resume/")
      ->required();
  sub->add_option("--steps", o.steps, "Optimiser steps")->check(WholeInRange(1))->capture_default_str();
  sub->add_option("--batch", o.batch, "Sequences a step (B)")->check(WholeInRange(1, 1 << 16))->capture_default_str();
  sub->add_option("--ctx", o.ctx, "Tokens a sequence (T)")->check(WholeInRange(1, 1 << 20))->capture_default_str();
  sub->add_option("--lr", o.lr, "Peak learning rate")->check(InRange(0, 1, /*lo_open=*/true))->capture_default_str();
  sub->add_option("--lr-final", o.lr_final, "Learning rate at the last step (cosine decay)")
      ->check(InRange(0, 1))
      ->capture_default_str();
  sub->add_option("--warmup", o.warmup, "Linear warm-up steps")->check(WholeInRange(0))->capture_default_str();
  sub->add_option("--weight-decay", o.weight_decay, "AdamW weight decay (2-D .weight tensors)")
      ->check(AtLeast(0))
      ->capture_default_str();
  sub->add_option("--grad-clip", o.grad_clip, "Global gradient-norm clip (0: off)")
      ->check(AtLeast(0))
      ->capture_default_str();
  sub->add_option("--dropout", o.dropout,
                  "Residual-stream dropout after each time and channel mix, as RWKV-LM's")
      ->check(InRange(0, 1, /*lo_open=*/false, /*hi_open=*/true))
      ->capture_default_str();
  sub->add_option("--precision", a->precision,
                  "Matrix products' inputs: f32, or bf16 (rounded to bfloat16, float32 sums and "
                  "weights; needs AVX-512 BF16)")
      ->check(CLI::IsMember({"f32", "bf16"}))
      ->capture_default_str();
  sub->add_flag("--no-l2wrap", a->no_l2wrap, "Drop the L2Wrap logit regulariser");
  sub->add_option("--eval-every", o.eval_every, "Validation loss every S steps (0: at the end)")
      ->check(WholeInRange(0))
      ->capture_default_str();
  sub->add_option("--save-every", o.save_every, "Checkpoint every S steps (0: at the end)")
      ->check(WholeInRange(0))
      ->capture_default_str();
  sub->add_option("--val-tokens", o.val_tokens, "Validation tokens scored (0: all)")
      ->check(WholeInRange(0))
      ->capture_default_str();
  sub->add_option("--dtype", a->dtype, "model.pth tensors: f32 or bf16")->capture_default_str();
  sub->add_option("--seed", o.seed, "Seed of the init and of the data order")
      ->check(UnsignedWhole())
      ->capture_default_str();
  sub->add_flag("--resume", a->resume, "Continue the run saved in --out");
  sub->add_option("--tune", a->tune, "'state': learn only the initial WKV state (needs --init)");
  AddVariantFlags(sub, &a->ablate, &a->iclr_mult);
  AddThreadsFlag(sub, &o.threads);
  return {sub, [a]() { return RunTrain(*a); }};
}

}  // namespace anser::cli
