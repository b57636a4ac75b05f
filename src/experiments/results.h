// What every experiment leaves in its output folder: results.csv (one row per run, the fields
// of the run's JSON object as columns, in order), curves.csv (each run's validation points) and
// summary.md; and the formatting those share.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "anser/status.h"
#include "experiments/task_trainer.h"

namespace anser {

// One run's fields, in the order of the columns (the JSON object `--format json` prints).
using RunRecord = nlohmann::ordered_json;

// The header from the first record's keys, then one line per record. Strings holding a comma
// or a quote are quoted.
Status WriteResultsCsv(const std::string& path, const std::vector<RunRecord>& records);

// A run's learning curve, named for curves.csv.
struct NamedCurve {
  std::string run;
  std::vector<CurvePoint> points;
};
// run,step,train_loss,val_loss,val_token_acc,val_last_acc,seconds
Status WriteCurvesCsv(const std::string& path, const std::vector<NamedCurve>& curves);

// Creates `dir` and writes results.csv and curves.csv there.
Status WriteRunTables(const std::string& dir, const std::vector<RunRecord>& records,
                      const std::vector<NamedCurve>& curves);

// What an experiment reports while it runs: before a run (its name, its position, the most
// runs the experiment can take), during it (TaskProgress), and after it.
template <typename Run>
struct ExperimentCallbacks {
  std::function<void(const std::string& name, int index, int most)> start;
  TaskProgress progress;
  std::function<void(const Run&)> done;
};

// Trains `run`'s model on `task` with `train`, announcing it as `name` (one of at most `most`)
// and reporting through `callbacks`, then appends it, its result filled in, to `runs`.
template <typename Run>
Status TrainRun(SyntheticTask& task, const TaskTrainOptions& train, const std::string& name, int most,
                const ExperimentCallbacks<Run>& callbacks, Run run, std::vector<Run>* runs) {
  if (callbacks.start) callbacks.start(name, static_cast<int>(runs->size()), most);
  ANSER_ASSIGN_OR_RETURN(run.result, TrainOnTask(task, train, callbacks.progress));
  runs->push_back(std::move(run));
  if (callbacks.done) callbacks.done(runs->back());
  return Status::Ok();
}

// Writes `text` to `path` atomically.
Status WriteTextFile(const std::string& path, const std::string& text);

// Creates `dir` (and its parents) unless it exists.
Status MakeOutputDir(const std::string& dir);

// A GitHub-flavoured Markdown table.
std::string MarkdownTable(const std::vector<std::string>& header,
                          const std::vector<std::vector<std::string>>& rows);

// `value` with `decimals` digits after the point.
std::string Fixed(double value, int decimals);
// The shortest form of `value` ("%g": 2, 1.5, 0.001).
std::string Short(double value);
// `value` with `decimals` digits and always a sign ("+0.031", "-0.002").
std::string Signed(double value, int decimals);
// The items with `separator` between them.
std::string Join(const std::vector<std::string>& items, const std::string& separator);
// A fraction as a percentage with two decimals ("98.43").
std::string Percent(double fraction);

}  // namespace anser
