// anser experiment group-word | mqar | ablation: the RWKV-7 paper's state-tracking, recall and
// ablation experiments, trained with Anser's own trainer (src/experiments). This file reads the
// flags, shows progress on stderr, prints the results (a table, or one JSON object per run with
// --format json) and draws the plots; the library writes results.csv, curves.csv, summary.md.
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "common.h"
#include "flag_checks.h"
#include "experiment_plots.h"
#include "experiments/ablation_experiment.h"
#include "experiments/group_word_experiment.h"
#include "experiments/groups.h"
#include "experiments/mqar_experiment.h"

namespace anser::cli {
namespace {

// What every experiment takes.
struct CommonArgs {
  std::string out, format = "text";
  uint64_t seed = 1;
  int threads = 0;
};

void AddCommonFlags(CLI::App* sub, CommonArgs* a) {
  sub->add_option("--out", a->out, "Output folder: results.csv, curves.csv, summary.md, PNG plots")
      ->required();
  sub->add_option("--format", a->format, "text: a table; json: one JSON object per run per line")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();
  sub->add_option("--seed", a->seed, "Seed of the init, the data and the held-out set")
      ->check(UnsignedWhole())
      ->capture_default_str();
  AddThreadsFlag(sub, &a->threads);
}

// How long a task run trains and how it is scored (group-word and mqar).
void AddTaskRunFlags(CLI::App* sub, TaskTrainOptions* t, int64_t* val_sequences) {
  sub->add_option("--steps", t->steps, "Most optimiser steps a run")
      ->check(WholeInRange(1))->capture_default_str();
  sub->add_option("--batch", t->batch, "Sequences a step")
      ->check(WholeInRange(1, 1 << 16))->capture_default_str();
  sub->add_option("--eval-every", t->eval_every, "Score the held-out set every S steps")
      ->check(WholeInRange(0))->capture_default_str();
  sub->add_option("--stop-at", t->stop_at, "Stop a run once the held-out accuracy reaches this (0: never)")
      ->check(InRange(0, 1))->capture_default_str();
  sub->add_option("--val", *val_sequences, "Held-out sequences a run")
      ->check(WholeInRange(1, 1 << 20))->capture_default_str();
}

int Threads(int threads) {
  return threads > 0 ? threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
}

// Progress on stderr: a line per run, a bar while it trains (on a terminal) or a line per
// evaluation (otherwise).
class RunProgress {
 public:
  void Start(const std::string& name, int index, int total) {
    bar_.reset();
    std::fprintf(stderr, "[%d/%d] %s\n", index + 1, total, name.c_str());
  }
  void Steps(int64_t total) { bar_ = std::make_unique<ProgressBar>("  train", total); }
  void Update(int64_t step, double loss, const std::string& evaluated) {
    char note[160];
    std::snprintf(note, sizeof(note), "loss %.4f%s", loss, evaluated.c_str());
    if (bar_) bar_->Update(step, note);
    if (!evaluated.empty() && !isatty(STDERR_FILENO))
      std::fprintf(stderr, "  step %lld %s\n", static_cast<long long>(step), note);
  }
  void Done() { bar_.reset(); }

 private:
  std::unique_ptr<ProgressBar> bar_;
};

TaskProgress TaskUpdates(RunProgress& progress) {
  return [&progress](int64_t step, double loss, const CurvePoint* p) {
    std::string note;
    if (p != nullptr) {
      char buf[96];
      std::snprintf(buf, sizeof(buf), " val acc %.2f%% (last %.2f%%)", 100.0 * p->val.token_acc,
                    100.0 * p->val.last_acc);
      note = buf;
    }
    progress.Update(step, loss, note);
  };
}

// Prints a run: its JSON object, or a table row (the header before the first).
void PrintRecord(const RunRecord& record, bool json, bool* header_done) {
  if (json) {
    WriteOut(record.dump() + "\n");
    return;
  }
  std::string line;
  if (!*header_done) {
    for (const auto& [key, value] : record.items()) line += key + "\t";
    line.back() = '\n';
    *header_done = true;
  }
  for (const auto& [key, value] : record.items()) {
    if (value.is_number_float()) {
      char buf[32];
      std::snprintf(buf, sizeof(buf), "%.4g", value.get<double>());
      line += buf;
    } else {
      line += value.is_string() ? value.get<std::string>() : value.dump();
    }
    line += "\t";
  }
  line.back() = '\n';
  WriteOut(line);
}

// Progress on stderr and a printed record per run, for an experiment on TrainOnTask.
template <typename Run>
ExperimentCallbacks<Run> PrintingCallbacks(RunProgress& progress, int64_t steps, bool json,
                                           std::function<RunRecord(const Run&)> record) {
  auto header = std::make_shared<bool>(false);
  ExperimentCallbacks<Run> callbacks;
  callbacks.start = [&progress, steps](const std::string& name, int i, int most) {
    progress.Start(name, i, most);
    progress.Steps(steps);
  };
  callbacks.progress = TaskUpdates(progress);
  callbacks.done = [&progress, json, record, header](const Run& run) {
    progress.Done();
    PrintRecord(record(run), json, header.get());
  };
  return callbacks;
}

// "1-4" → {1, 2, 3, 4}; "3" → {3}.
Result<std::vector<int>> ParseRange(const std::string& text) {
  const size_t dash = text.find('-');
  try {
    const int lo = std::stoi(text.substr(0, dash));
    const int hi = dash == std::string::npos ? lo : std::stoi(text.substr(dash + 1));
    if (lo >= 1 && hi >= lo && hi <= 64) {
      std::vector<int> out;
      for (int l = lo; l <= hi; ++l) out.push_back(l);
      return out;
    }
  } catch (const std::exception&) {
  }
  return Status::Error("--sweep-layers takes a range of layer counts such as 1-4, not '" + text + "'");
}

Result<std::vector<ModelVariant>> Variants(const std::vector<std::string>& ablate, double iclr_mult,
                                           bool with_full) {
  std::vector<ModelVariant> out;
  if (with_full || ablate.empty()) {
    ANSER_ASSIGN_OR_RETURN(ModelVariant full, ParseModelVariant("", iclr_mult));
    out.push_back(full);
  }
  for (const std::string& list : ablate) {
    ANSER_ASSIGN_OR_RETURN(ModelVariant v, ParseModelVariant(list, iclr_mult));
    if (std::find(out.begin(), out.end(), v) == out.end()) out.push_back(v);
  }
  return out;
}

// After the results were written: the plots' outcome (a failed plot loses no result).
int Finish(const Status& plotted, const std::string& dir) {
  if (!plotted.ok()) return Fail("the results are in " + dir + ", but a plot failed: " + plotted.message());
  std::fprintf(stderr, "wrote %s/results.csv, curves.csv, summary.md and the plots\n", dir.c_str());
  return 0;
}

// ---- group-word

struct GroupWordArgs {
  CommonArgs common;
  std::vector<std::string> groups, ablate;
  std::vector<int64_t> lens;
  int64_t len = 0;
  int layers = 0;
  std::string sweep_layers;
  double iclr_mult = 1.0;
  GroupWordOptions options;
};

int RunGroupWordCommand(GroupWordArgs a) {
  GroupWordOptions& o = a.options;
  o.groups = a.groups;
  if (!a.lens.empty() && a.len != 0) return FailUsage("give --len or --lens, not both");
  o.lens = a.lens.empty() ? std::vector<int64_t>{a.len} : a.lens;
  if (o.lens == std::vector<int64_t>{0}) return FailUsage("give the sequence length: --len L (or --lens L,L,…)");
  o.sweep = !a.sweep_layers.empty();
  if (o.sweep) {
    if (a.layers != 0) return FailUsage("give --layers or --sweep-layers, not both");
    auto range = ParseRange(a.sweep_layers);
    if (!range.ok()) return FailUsage(range.message());
    o.layers = range.value();
  } else {
    if (a.layers <= 0) return FailUsage("give the model depth: --layers N (or --sweep-layers 1-4)");
    o.layers = {a.layers};
  }
  auto variants = Variants(a.ablate, a.iclr_mult, o.sweep);
  if (!variants.ok()) return FailUsage(variants.message());
  o.variants = variants.value();
  o.train.seed = a.common.seed;
  o.train.threads = Threads(a.common.threads);
  for (const std::string& g : o.groups) {
    if (!FiniteGroup::Make(g).ok()) return FailUsage(FiniteGroup::Make(g).message());
  }
  RunProgress progress;
  const TaskTrainOptions& train = o.train;
  auto runs = RunGroupWord(
      o, PrintingCallbacks<GroupWordRun>(progress, train.steps, a.common.format == "json",
                                         [&train](const GroupWordRun& r) { return GroupWordRecord(r, train); }));
  if (!runs.ok()) return Fail(runs.message());
  if (o.sweep && a.common.format == "text") {
    WriteOut("\nfewest layers with val_token_acc > " + Percent(o.threshold) + " %:\n");
    for (const MinLayers& m : MinimumLayers(o, runs.value())) {
      WriteOut(m.group + "\tlen " + std::to_string(m.len) + "\t" + m.variant.Name() +
               (m.variant.iclr_mult != 1.0 ? " iclr x" + Short(m.variant.iclr_mult) : "") + "\t" +
               (m.layers == 0 ? "none" : std::to_string(m.layers)) + "\n");
    }
  }
  const Status written = WriteGroupWordOutputs(a.common.out, o, runs.value(), CommandLine());
  if (!written.ok()) return Fail(written.message());
  return Finish(PlotGroupWord(a.common.out, o, runs.value()), a.common.out);
}

CLI::App* AddGroupWord(CLI::App* parent, std::function<int()>* run) {
  auto* sub = parent->add_subcommand(
      "group-word", "State tracking: the group word problem (running products) over Z60, A4xZ5, A5, S5, Z2");
  auto a = std::make_shared<GroupWordArgs>();
  TaskTrainOptions& t = a->options.train;
  t.width = 128, t.head_size = 16, t.steps = 20000, t.batch = 32, t.lr = 3e-3, t.warmup = 200;
  t.eval_every = 200, t.stop_at = 0.99;
  sub->add_option("--group", a->groups, "Groups, comma-separated: " + FiniteGroup::Names())
      ->delimiter(',')
      ->required();
  sub->add_option("--len", a->len, "Group elements a sequence (after the start token)")
      ->check(WholeInRange(1, 1 << 16));
  sub->add_option("--lens", a->lens, "Several lengths, comma-separated (for a sweep)")
      ->check(WholeInRange(1, 1 << 16))->delimiter(',');
  sub->add_option("--layers", a->layers, "Layers of the model")
      ->check(WholeInRange(1, 256));
  sub->add_option("--sweep-layers", a->sweep_layers,
                  "Try these layer counts (e.g. 1-4) in order for the full model and each --ablate "
                  "variant, and report the fewest reaching > 95 % val_token_acc");
  sub->add_option("--width", t.width, "Model width C")
      ->check(WholeInRange(1, 1 << 16))->capture_default_str();
  sub->add_option("--head-size", t.head_size, "WKV head size")
      ->check(WholeInRange(1, 1024))->capture_default_str();
  AddTaskRunFlags(sub, &t, &a->options.val_sequences);
  sub->add_option("--lr", t.lr, "Peak learning rate (warm-up, then cosine decay)")
      ->check(InRange(0, 1, /*lo_open=*/true))->capture_default_str();
  sub->add_option("--warmup", t.warmup, "Warm-up steps")
      ->check(WholeInRange(0))->capture_default_str();
  sub->add_option("--weight-decay", t.weight_decay, "AdamW weight decay on the matrices")
      ->check(AtLeast(0))
      ->capture_default_str();
  sub->add_option("--ablate", a->ablate,
                  "A model variant: switches off, comma-separated (delta, scalar-decay, scalar-iclr, "
                  "shared-keys, no-bonus); repeat the flag for several variants");
  sub->add_option("--iclr-mult", a->iclr_mult, "Scale the removal term by C (x070: 1; the paper's proofs: 2)")
      ->check(InRange(0, 4))
      ->capture_default_str();
  AddCommonFlags(sub, &a->common);
  *run = [a]() { return RunGroupWordCommand(*a); };
  return sub;
}

// ---- mqar

struct MqarArgs {
  CommonArgs common;
  std::vector<int> widths;
  int64_t seq_len = 0, pairs = 0;
  bool paper = false;
  std::vector<double> lrs = {1e-3, 3e-3, 1e-2};
  std::vector<std::string> ablate;
  double iclr_mult = 1.0;
  MqarOptions options;
};

int RunMqarCommand(MqarArgs a) {
  MqarOptions& o = a.options;
  if ((a.seq_len == 0) != (a.pairs == 0)) return FailUsage("give --seq-len and --pairs together");
  if (a.seq_len != 0 && a.paper) return FailUsage("give --seq-len/--pairs or --paper, not both");
  o.cells = a.seq_len != 0 ? std::vector<MqarCell>{{a.seq_len, a.pairs}}
            : a.paper      ? MqarPaperCells()
                           : MqarDefaultCells();
  o.widths = !a.widths.empty() ? a.widths : a.paper ? std::vector<int>{64, 128, 256, 512} : std::vector<int>{64, 128};
  o.lrs = a.lrs;
  if (a.ablate.size() > 1) return FailUsage("mqar runs one model variant: give --ablate once");
  auto variants = Variants(a.ablate, a.iclr_mult, false);
  if (!variants.ok()) return FailUsage(variants.message());
  o.train.variant = variants.value()[0];
  o.train.seed = a.common.seed;
  o.train.threads = Threads(a.common.threads);
  RunProgress progress;
  const TaskTrainOptions& train = o.train;
  auto runs = RunMqar(o, PrintingCallbacks<MqarRun>(progress, train.steps, a.common.format == "json",
                                                    [&train](const MqarRun& r) { return MqarRecord(r, train); }));
  if (!runs.ok()) return Fail(runs.message());
  const Status written = WriteMqarOutputs(a.common.out, o, runs.value(), CommandLine());
  if (!written.ok()) return Fail(written.message());
  if (a.common.format == "text") {
    WriteOut("\nbest of " + std::to_string(o.lrs.size()) + " learning rates:\n");
    for (const MqarRun& r : BestPerCell(o, runs.value())) {
      WriteOut("width " + std::to_string(r.width) + "\t(" + std::to_string(r.cell.seq_len) + "," +
               std::to_string(r.cell.pairs) + ")\t" + Percent(r.result.val.token_acc) + " %" +
               (r.result.val.token_acc > 0.99 ? " ✓" : "") + "\n");
    }
  }
  return Finish(PlotMqar(a.common.out, o, runs.value()), a.common.out);
}

CLI::App* AddMqar(CLI::App* parent, std::function<int()>* run) {
  auto* sub = parent->add_subcommand(
      "mqar", "Recall: multi-query associative recall (Zoology format), the paper's Table 6");
  auto a = std::make_shared<MqarArgs>();
  TaskTrainOptions& t = a->options.train;
  t.layers = 2, t.head_size = 64, t.steps = 1500, t.batch = 32, t.warmup = 100;
  t.weight_decay = 0.1, t.eval_every = 250, t.stop_at = 0.995;
  sub->add_option("--width", a->widths, "Model widths, comma-separated (default 64,128; --paper: 64,128,256,512)")
      ->check(WholeInRange(1, 1 << 16))
      ->delimiter(',');
  sub->add_option("--seq-len", a->seq_len, "One cell: sequence length T")
      ->check(WholeInRange(1, 1 << 20));
  sub->add_option("--pairs", a->pairs, "One cell: key-value pairs K (4·K ≤ T)")
      ->check(WholeInRange(1, 1 << 20));
  sub->add_flag("--paper", a->paper,
                "The paper's whole table: adds (512,64), (1024,128), (2048,256) and widths 256, 512 "
                "(many hours on 2 cores; README: Reproducing the paper)");
  sub->add_option("--lrs", a->lrs, "Learning rates; each cell reports the best")
      ->check(InRange(0, 1, /*lo_open=*/true))
      ->delimiter(',')
      ->capture_default_str();
  AddTaskRunFlags(sub, &t, &a->options.val_sequences);
  sub->add_option("--ablate", a->ablate, "Switches off, comma-separated (as group-word)");
  sub->add_option("--iclr-mult", a->iclr_mult, "Scale the removal term by C")
      ->check(InRange(0, 4))->capture_default_str();
  AddCommonFlags(sub, &a->common);
  *run = [a]() { return RunMqarCommand(*a); };
  return sub;
}

// ---- ablation

struct AblationArgs {
  CommonArgs common;
  AblationOptions options;
};

int RunAblationCommand(AblationArgs a) {
  AblationOptions& o = a.options;
  o.variants = AblationVariants();
  o.train.threads = Threads(a.common.threads);
  o.train.save_every = 0;
  RunProgress progress;
  bool header = false;
  AblationCallbacks callbacks;
  callbacks.start = [&](const std::string& name, int i, int total) {
    progress.Start(name, i, total);
    progress.Steps(o.train.steps);
  };
  callbacks.step = [&](const LogRow& row, int64_t) {
    progress.Update(row.step, row.loss, row.val_loss >= 0 ? " val " + Fixed(row.val_loss, 4) : "");
  };
  callbacks.done = [&](const AblationRun& run) {
    progress.Done();
    PrintRecord(AblationRecord(run, o), a.common.format == "json", &header);
  };
  auto runs = RunAblation(o, a.common.out, callbacks);
  if (!runs.ok()) return Fail(runs.message());
  const Status written = WriteAblationOutputs(a.common.out, o, runs.value(), CommandLine());
  if (!written.ok()) return Fail(written.message());
  if (a.common.format == "text") {
    WriteOut("\nvalidation loss over " + std::to_string(o.seeds) + " seeds (paper, MiniPile 6x768):\n");
    for (const AblationSummary& s : SummariseAblation(o, runs.value())) {
      WriteOut(s.variant.Name() + "\t" + Fixed(s.mean, 4) + " ± " + Fixed(s.sd, 4) + "\t(" +
               Fixed(s.paper, 3) + ")\n");
    }
  }
  return Finish(PlotAblation(a.common.out, o, runs.value()), a.common.out);
}

CLI::App* AddAblation(CLI::App* parent, std::function<int()>* run) {
  auto* sub = parent->add_subcommand(
      "ablation", "The paper's App. K ablations on a text: full model and four variants, several seeds");
  auto a = std::make_shared<AblationArgs>();
  AblationOptions& o = a->options;
  TrainOptions& t = o.train;
  t.steps = 600, t.batch = 8, t.ctx = 128, t.lr = 3e-3, t.lr_final = 1e-4, t.warmup = 30;
  t.eval_every = 100, t.val_tokens = 32768;
  sub->add_option("--data", o.data, "Training text (first 90 % train, the rest validation)")->required();
  sub->add_option("--layers", o.layers, "Layers")
      ->check(WholeInRange(1, 256))->capture_default_str();
  sub->add_option("--width", o.width, "Width C")
      ->check(WholeInRange(1, 1 << 16))->capture_default_str();
  sub->add_option("--head-size", o.head_size, "WKV head size")
      ->check(WholeInRange(1, 1024))->capture_default_str();
  sub->add_option("--seeds", o.seeds, "Seeds 1…N (init and data order)")
      ->check(WholeInRange(1, 1000))->capture_default_str();
  sub->add_option("--steps", t.steps, "Optimiser steps a run")
      ->check(WholeInRange(1))->capture_default_str();
  sub->add_option("--batch", t.batch, "Sequences a step")
      ->check(WholeInRange(1, 1 << 16))->capture_default_str();
  sub->add_option("--ctx", t.ctx, "Bytes a sequence")
      ->check(WholeInRange(1, 1 << 20))->capture_default_str();
  sub->add_option("--lr", t.lr, "Peak learning rate")
      ->check(InRange(0, 1, /*lo_open=*/true))->capture_default_str();
  sub->add_option("--eval-every", t.eval_every, "Validation loss every S steps")
      ->check(WholeInRange(0))->capture_default_str();
  sub->add_option("--val-tokens", t.val_tokens, "Validation bytes scored")
      ->check(WholeInRange(0))->capture_default_str();
  AddCommonFlags(sub, &a->common);
  sub->remove_option(sub->get_option("--seed"));  // --seeds replaces it
  *run = [a]() { return RunAblationCommand(*a); };
  return sub;
}

}  // namespace

Command AddExperiment(CLI::App& app) {
  auto* sub = app.add_subcommand(
      "experiment", "The RWKV-7 paper's experiments: group-word (state tracking), mqar (recall), ablation");
  sub->require_subcommand(1);
  auto runs = std::make_shared<std::vector<std::pair<CLI::App*, std::function<int()>>>>(3);
  (*runs)[0].first = AddGroupWord(sub, &(*runs)[0].second);
  (*runs)[1].first = AddMqar(sub, &(*runs)[1].second);
  (*runs)[2].first = AddAblation(sub, &(*runs)[2].second);
  return {sub, [runs]() {
            KeepFreedMemoryForReuse();
            for (const auto& [command, run] : *runs) {
              if (command->parsed()) return run();
            }
            return FailUsage("experiment: give group-word, mqar or ablation");
          }};
}

}  // namespace anser::cli
