#include "experiments/ablation_experiment.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <fstream>
#include <sstream>

#include "anser/tokenizer.h"
#include "train/init.h"

namespace anser {
namespace {

// Table 19 of the paper: validation loss on MiniPile, 6 layers × 768.
double PaperValLoss(const ModelVariant& v) {
  if (v.scalar_decay) return 2.609;
  if (v.scalar_iclr) return 2.591;
  if (v.shared_keys) return 2.560;
  if (v.no_bonus) return 2.588;
  return 2.541;
}

std::string RunDir(const std::string& dir, const AblationRun& run) {
  return dir + "/runs/" + run.variant.Name() + "-seed" + std::to_string(run.seed);
}

std::string VerdictText(int verdict) {
  return verdict > 0 ? "worse than full beyond the noise"
         : verdict < 0 ? "better than full beyond the noise"
                       : "within the seed noise of full";
}

}  // namespace

std::vector<ModelVariant> AblationVariants() {
  std::vector<ModelVariant> v(5);
  v[1].scalar_decay = true;
  v[2].scalar_iclr = true;
  v[3].shared_keys = true;
  v[4].no_bonus = true;
  return v;
}

RunRecord AblationRecord(const AblationRun& run, const AblationOptions& o) {
  RunRecord r;
  r["variant"] = run.variant.Name();
  r["seed"] = run.seed;
  r["layers"] = o.layers;
  r["width"] = o.width;
  r["steps"] = o.train.steps;
  r["val_loss"] = run.val_loss;
  r["seconds"] = run.seconds;
  return r;
}

Result<std::vector<AblationRun>> RunAblation(const AblationOptions& o, const std::string& dir,
                                             const AblationCallbacks& callbacks) {
  if (o.seeds <= 0 || o.variants.empty())
    return Status::Error("[ablation] nothing to run: give at least one seed and variant");
  std::ifstream in(o.data, std::ios::binary);
  if (!in) return Status::Error("[ablation] cannot read --data '" + o.data + "'");
  std::ostringstream text;
  text << in.rdbuf();
  ANSER_ASSIGN_OR_RETURN(Corpus corpus, MakeCorpus(text.str(), *MakeByteTokenizer()));
  ANSER_ASSIGN_OR_RETURN(ModelConfig config, ScratchConfig(o.layers, o.width, o.head_size, 256));
  const int total = o.seeds * static_cast<int>(o.variants.size());
  std::vector<AblationRun> runs;
  for (int seed = 1; seed <= o.seeds; ++seed) {
    for (const ModelVariant& variant : o.variants) {
      AblationRun run;
      run.variant = variant;
      run.seed = static_cast<uint64_t>(seed);
      config.variant = variant;
      TrainOptions train = o.train;
      train.seed = run.seed;
      if (callbacks.start) {
        callbacks.start(variant.Name() + " seed " + std::to_string(seed), static_cast<int>(runs.size()),
                        total);
      }
      const auto start = std::chrono::steady_clock::now();
      ANSER_ASSIGN_OR_RETURN(ParamSet params, InitParams(config, run.seed, o.train.threads));
      ANSER_ASSIGN_OR_RETURN(std::unique_ptr<Trainer> trainer,
                             Trainer::Create(std::move(params), corpus, train, RunDir(dir, run), ""));
      while (!trainer->done()) {
        ANSER_ASSIGN_OR_RETURN(const LogRow row, trainer->Step());
        if (callbacks.step) callbacks.step(row, train.steps);
      }
      run.log = trainer->log();
      run.val_loss = run.log.back().val_loss;  // the last step is always evaluated
      run.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      runs.push_back(std::move(run));
      if (callbacks.done) callbacks.done(runs.back());
    }
  }
  return runs;
}

std::vector<AblationSummary> SummariseAblation(const AblationOptions& o,
                                               const std::vector<AblationRun>& runs) {
  std::vector<AblationSummary> out;
  for (const ModelVariant& v : o.variants) {
    AblationSummary s;
    s.variant = v;
    s.paper = PaperValLoss(v);
    std::vector<double> losses;
    for (const AblationRun& r : runs) {
      if (r.variant == v) losses.push_back(r.val_loss);
    }
    const double n = static_cast<double>(losses.size());
    for (double x : losses) s.mean += x / n;
    for (double x : losses) s.sd += (x - s.mean) * (x - s.mean);
    s.sd = losses.size() > 1 ? std::sqrt(s.sd / (n - 1)) : 0.0;
    out.push_back(s);
  }
  const AblationSummary* full = nullptr;
  for (const AblationSummary& s : out) {
    if (s.variant.IsDefault()) full = &s;
  }
  if (full == nullptr) return out;
  const double n = static_cast<double>(o.seeds);
  for (AblationSummary& s : out) {
    if (&s == full) continue;
    const double noise = 2.0 * std::sqrt(s.sd * s.sd / n + full->sd * full->sd / n);
    const double gap = s.mean - full->mean;
    s.verdict = gap > noise ? 1 : gap < -noise ? -1 : 0;
  }
  return out;
}

Status WriteAblationOutputs(const std::string& dir, const AblationOptions& o,
                            const std::vector<AblationRun>& runs, const std::string& command) {
  std::vector<RunRecord> records;
  std::vector<NamedCurve> curves;
  for (const AblationRun& r : runs) {
    records.push_back(AblationRecord(r, o));
    NamedCurve c{r.variant.Name() + " seed " + std::to_string(r.seed), {}};
    for (const LogRow& row : r.log) {
      if (row.val_loss < 0) continue;
      CurvePoint p;
      p.step = row.step;
      p.train_loss = row.loss;
      p.val.loss = row.val_loss;
      p.seconds = row.elapsed_s;
      c.points.push_back(p);
    }
    curves.push_back(std::move(c));
  }
  ANSER_RETURN_IF_ERROR(WriteRunTables(dir, records, curves));
  const std::vector<AblationSummary> summary = SummariseAblation(o, runs);
  double full_mean = 0.0;
  for (const AblationSummary& s : summary) {
    if (s.variant.IsDefault()) full_mean = s.mean;
  }
  std::vector<std::vector<std::string>> rows;
  for (const AblationSummary& s : summary) {
    const bool full = s.variant.IsDefault();
    rows.push_back({s.variant.Name(), Join({Fixed(s.mean, 4), Fixed(s.sd, 4)}, " ± "),
                    full ? "" : Signed(s.mean - full_mean, 4), Fixed(s.paper, 3),
                    full ? "" : Signed(s.paper - PaperValLoss(ModelVariant()), 3),
                    full ? "" : VerdictText(s.verdict)});
  }
  const TrainOptions& t = o.train;
  std::string md = "# Ablations (RWKV-7 paper App. K, Table 19)\n\n```\n" + command + "\n```\n\n";
  md += "Byte-level models of " + std::to_string(o.layers) + " layers × " + std::to_string(o.width) +
        " (head size " + std::to_string(o.head_size) + ") trained on " + o.data + " for " +
        std::to_string(t.steps) + " steps of " + std::to_string(t.batch) + " × " +
        std::to_string(t.ctx) + " bytes, lr " + Short(t.lr) + ", seeds 1–" +
        std::to_string(o.seeds) + " (init and data order); validation loss in nats per byte on " +
        "the last 10 % of the text (first " + std::to_string(t.val_tokens) +
        " bytes), mean ± sample standard deviation over the seeds. The paper's numbers are "
        "validation losses in nats per token on MiniPile at 6 layers × 768, so only the "
        "differences and the order compare. \"Beyond the noise\": |Δ| > 2·√(sd²/n + "
        "sd_full²/n).\n\n";
  md += MarkdownTable({"variant", "val loss (Anser)", "Δ vs full (Anser)", "val loss (paper)",
                       "Δ vs full (paper)", "Anser's gap"},
                      rows);
  std::vector<const AblationSummary*> order;
  for (const AblationSummary& s : summary) order.push_back(&s);
  std::sort(order.begin(), order.end(), [](auto* a, auto* b) { return a->mean < b->mean; });
  auto names = [&order]() {
    std::vector<std::string> n;
    for (const AblationSummary* s : order) n.push_back(s->variant.Name());
    return Join(n, " < ");
  };
  const std::string anser_order = names();
  std::sort(order.begin(), order.end(), [](auto* a, auto* b) { return a->paper < b->paper; });
  md += "\nOrder by validation loss — Anser: " + anser_order + "; paper: " + names() +
        ".\n\nPlot: val_loss.png (validation loss against step, mean over the seeds). Curves: "
        "curves.csv.\n";
  return WriteTextFile(dir + "/summary.md", md);
}

}  // namespace anser
