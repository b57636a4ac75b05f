// `anser experiment mqar`: the recall experiment of the RWKV-7 paper (§7.3, Table 6). A
// two-layer model per width and (length, pairs) cell, trained on MQAR (mqar_task.h) with each
// of three learning rates; a cell's result is the best of them, as in the paper. The total WKV
// state is layers × heads × head_size²; the paper's bits per state dimension are
// pairs × accuracy × log2(keys × values) / state.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "experiments/results.h"
#include "experiments/task_trainer.h"

namespace anser {

struct MqarCell {
  int64_t seq_len = 0, pairs = 0;
};

// The paper's grid: the default cells (64,4), (128,8), (256,16); the paper's table adds
// (512,64), (1024,128), (2048,256); widths 64 and 128 by default, 64–512 in the paper.
std::vector<MqarCell> MqarDefaultCells();
std::vector<MqarCell> MqarPaperCells();

struct MqarOptions {
  std::vector<int> widths;
  std::vector<MqarCell> cells;
  std::vector<double> lrs;  // the best of these is the cell's result
  TaskTrainOptions train;   // layers, head size, optimiser, seed; width and lr are set per run
  int64_t val_sequences = 256;
};

struct MqarRun {
  int width = 0;
  MqarCell cell;
  double lr = 0.0;
  TaskRunResult result;
};

int64_t MqarStateSize(const TaskTrainOptions& train, int width);
double MqarBitsPerDim(const MqarCell& cell, double accuracy, int64_t state);

// width, state, seq_len, pairs, layers, variant, iclr_mult, lr, seed, steps, val_acc,
// bits_per_dim, seconds
RunRecord MqarRecord(const MqarRun& run, const TaskTrainOptions& train);
std::string MqarRunName(const MqarRun& run);

using MqarCallbacks = ExperimentCallbacks<MqarRun>;

Result<std::vector<MqarRun>> RunMqar(const MqarOptions& options, const MqarCallbacks& callbacks);

// The best run of each (width, cell) that was run, in the order of the options.
std::vector<MqarRun> BestPerCell(const MqarOptions& options, const std::vector<MqarRun>& runs);

// results.csv, curves.csv and summary.md: Table 6's layout, the paper's numbers beside.
Status WriteMqarOutputs(const std::string& dir, const MqarOptions& options,
                        const std::vector<MqarRun>& runs, const std::string& command);

}  // namespace anser
