#include "experiments/group_word_experiment.h"

#include <map>

#include "experiments/group_word_task.h"

namespace anser {
namespace {

std::string MultNote(double iclr_mult) {
  return iclr_mult == 1.0 ? "" : " iclr x" + Short(iclr_mult);
}

bool Better(const GroupWordRun& run, double threshold) { return run.result.val.token_acc > threshold; }

}  // namespace

RunRecord GroupWordRecord(const GroupWordRun& run, const TaskTrainOptions& train) {
  RunRecord r;
  r["group"] = run.group;
  r["len"] = run.len;
  r["layers"] = run.layers;
  r["width"] = train.width;
  r["variant"] = run.variant.Name();
  r["iclr_mult"] = run.variant.iclr_mult;
  r["seed"] = train.seed;
  r["steps"] = run.result.steps;
  r["val_token_acc"] = run.result.val.token_acc;
  r["val_last_acc"] = run.result.val.last_acc;
  r["seconds"] = run.result.seconds;
  return r;
}

std::string GroupWordRunName(const GroupWordRun& run) {
  return run.group + " len " + std::to_string(run.len) + " L" + std::to_string(run.layers) + " " +
         run.variant.Name() + MultNote(run.variant.iclr_mult);
}

Result<std::vector<GroupWordRun>> RunGroupWord(const GroupWordOptions& o,
                                               const GroupWordCallbacks& callbacks) {
  if (o.groups.empty() || o.lens.empty() || o.layers.empty() || o.variants.empty())
    return Status::Error("[group-word] nothing to run: give groups, lengths, layers and variants");
  const int most = static_cast<int>(o.groups.size() * o.lens.size() * o.variants.size() * o.layers.size());
  std::vector<GroupWordRun> runs;
  for (const std::string& name : o.groups) {
    ANSER_ASSIGN_OR_RETURN(FiniteGroup group, FiniteGroup::Make(name));
    for (int64_t len : o.lens) {
      for (const ModelVariant& variant : o.variants) {
        for (int layers : o.layers) {
          // A fresh task for every run: each starts from the same data stream and held-out set.
          ANSER_ASSIGN_OR_RETURN(GroupWordTask task,
                                 GroupWordTask::Make(group, len, o.val_sequences, 128, o.train.seed));
          GroupWordRun run;
          run.group = name, run.len = len, run.layers = layers, run.variant = variant;
          TaskTrainOptions train = o.train;
          train.layers = layers;
          train.variant = variant;
          ANSER_RETURN_IF_ERROR(TrainRun(task, train, GroupWordRunName(run), most, callbacks, run, &runs));
          if (o.sweep && Better(runs.back(), o.threshold)) break;
        }
      }
    }
  }
  return runs;
}

std::vector<MinLayers> MinimumLayers(const GroupWordOptions& o, const std::vector<GroupWordRun>& runs) {
  std::vector<MinLayers> out;
  for (const std::string& group : o.groups) {
    for (const ModelVariant& variant : o.variants) {
      for (int64_t len : o.lens) {
        MinLayers m{group, len, variant, 0};
        for (const GroupWordRun& r : runs) {
          if (r.group == group && r.len == len && r.variant == variant && Better(r, o.threshold) &&
              (m.layers == 0 || r.layers < m.layers)) {
            m.layers = r.layers;
          }
        }
        out.push_back(m);
      }
    }
  }
  return out;
}

Status WriteGroupWordOutputs(const std::string& dir, const GroupWordOptions& o,
                             const std::vector<GroupWordRun>& runs, const std::string& command) {
  std::vector<RunRecord> records;
  std::vector<NamedCurve> curves;
  std::vector<std::vector<std::string>> rows;
  for (const GroupWordRun& r : runs) {
    records.push_back(GroupWordRecord(r, o.train));
    curves.push_back({GroupWordRunName(r), r.result.curve});
    rows.push_back({r.group, std::to_string(r.len), std::to_string(r.layers), r.variant.Name(),
                    Short(r.variant.iclr_mult), std::to_string(r.result.steps),
                    Percent(r.result.val.token_acc), Percent(r.result.val.last_acc),
                    Fixed(r.result.seconds, 1)});
  }
  ANSER_RETURN_IF_ERROR(WriteRunTables(dir, records, curves));
  const TaskTrainOptions& t = o.train;
  std::string md = "# Group word problem (RWKV-7 paper §7.6, Fig. 8)\n\n```\n" + command + "\n```\n\n";
  md += "Width " + std::to_string(t.width) + ", head size " + std::to_string(t.head_size) + ", " +
        std::to_string(t.steps) + " steps (at most) of batch " + std::to_string(t.batch) +
        ", lr " + Fixed(t.lr, 5) + ", seed " + std::to_string(t.seed) + "; " +
        std::to_string(o.val_sequences) +
        " held-out sequences; accuracy over every labelled position (val_token_acc) and over "
        "the last one (val_last_acc).\n\n";
  md += MarkdownTable({"group", "len", "layers", "variant", "iclr_mult", "steps", "val_token_acc %",
                       "val_last_acc %", "seconds"},
                      rows);
  if (o.sweep) {
    md += "\n## Fewest layers reaching > " + Percent(o.threshold) +
          " % val_token_acc (— : none of " + std::to_string(o.layers.front()) + "–" +
          std::to_string(o.layers.back()) + ")\n\n";
    std::vector<std::string> header{"group", "variant"};
    for (int64_t len : o.lens) header.push_back("len " + std::to_string(len));
    std::map<std::pair<std::string, std::string>, std::vector<std::string>> table;
    std::vector<std::pair<std::string, std::string>> order;
    for (const MinLayers& m : MinimumLayers(o, runs)) {
      const auto key = std::make_pair(m.group, m.variant.Name() + MultNote(m.variant.iclr_mult));
      if (table.count(key) == 0) order.push_back(key);
      table[key].push_back(m.layers == 0 ? "—" : std::to_string(m.layers));
    }
    std::vector<std::vector<std::string>> min_rows;
    for (const auto& key : order) {
      std::vector<std::string> row{key.first, key.second};
      row.insert(row.end(), table[key].begin(), table[key].end());
      min_rows.push_back(row);
    }
    md += MarkdownTable(header, min_rows);
    md += "\nThe paper gives these counts only as a plot (Fig. 8, lengths 5–20, 1–4 layers): "
          "RWKV-7 needs fewer layers than Transformer, Mamba and S4 on all three groups and "
          "slightly more than a classical RNN (one layer everywhere). Plot: min_layers.png.\n";
  }
  md += "\nThe paper's claims this experiment checks: RWKV-7 tracks A5 (non-solvable, NC¹) with a "
        "constant number of layers, which diagonal-decay models (here `--ablate delta`) cannot; "
        "with `--iclr-mult 2` one layer has the negative eigenvalues parity (Z2) needs. "
        "Learning curves: curves.csv, curves.png.\n";
  return WriteTextFile(dir + "/summary.md", md);
}

}  // namespace anser
