// anser plot-loss: the train and validation loss of a training log.csv against the step, as a
// PNG (axes, ticks and labels in a built-in bitmap font; no plotting library needed).
#include <cmath>
#include <cstdio>
#include <memory>
#include <string>

#include "common.h"
#include "line_chart.h"
#include "train/train_log.h"

namespace anser::cli {
namespace {

struct PlotArgs {
  std::string log;
  std::string out;
};

int RunPlot(const PlotArgs& a) {
  auto rows = ReadLog(a.log);
  if (!rows.ok()) return Fail(rows.message());
  if (rows->empty()) return Fail("'" + a.log + "' has no rows to plot");
  // Train loss: every step, thin; validation: the evaluated steps, thick with markers.
  ChartSeries train{"train", SeriesColor(0), {}, 1, false};
  ChartSeries val{"val", SeriesColor(1), {}, 3, true};
  for (const LogRow& r : *rows) {
    const double step = static_cast<double>(r.step);
    if (r.loss >= 0 && std::isfinite(r.loss)) train.points.push_back({step, r.loss});
    if (r.val_loss >= 0 && std::isfinite(r.val_loss)) val.points.push_back({step, r.val_loss});
  }
  if (train.points.empty() && val.points.empty()) return Fail("'" + a.log + "' has no finite loss values");
  Chart chart;
  chart.x.label = "step";
  chart.x.min = 0;
  chart.y.label = "loss";
  chart.series = {train, val};
  const Status saved = SaveCharts(a.out, {chart});
  if (!saved.ok()) return Fail(saved.message());
  std::fprintf(stderr, "wrote %s (%zu steps)\n", a.out.c_str(), rows->size());
  return 0;
}

}  // namespace

Command AddPlotLoss(CLI::App& app) {
  auto* sub = app.add_subcommand(
      "plot-loss", "Plot the train and validation loss of a training log.csv as a PNG");
  auto a = std::make_shared<PlotArgs>();
  sub->add_option("log", a->log, "log.csv written by anser train")->required();
  sub->add_option("-o,--out", a->out, "PNG file to write")->required();
  return {sub, [a]() { return RunPlot(*a); }};
}

}  // namespace anser::cli
