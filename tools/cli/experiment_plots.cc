#include "experiment_plots.h"

#include <algorithm>
#include <cmath>
#include <map>

#include "line_chart.h"

namespace anser::cli {
namespace {

std::string VariantLabel(const ModelVariant& v) {
  return v.iclr_mult == 1.0 ? v.Name() : v.Name() + " iclr x" + Short(v.iclr_mult);
}

}  // namespace

Status PlotGroupWord(const std::string& dir, const GroupWordOptions& o,
                     const std::vector<GroupWordRun>& runs) {
  Chart curves;
  curves.title = "group word problem: held-out token accuracy";
  curves.x = {"step", 0.0, std::nullopt, {}};
  curves.y = {"val token acc", 0.0, 1.0, {}};
  curves.legend_below = true;
  for (size_t i = 0; i < runs.size(); ++i) {
    ChartSeries s{runs.size() <= 8 ? GroupWordRunName(runs[i]) : "", SeriesColor(static_cast<int>(i)),
                  {}, 2, false};
    for (const CurvePoint& p : runs[i].result.curve)
      s.points.push_back({static_cast<double>(p.step), p.val.token_acc});
    curves.series.push_back(std::move(s));
  }
  ANSER_RETURN_IF_ERROR(SaveCharts(dir + "/curves.png", {curves}));
  if (!o.sweep) return Status::Ok();
  // "None within the range" sits one above the largest count tried.
  const int top = o.layers.back() + 1;
  std::vector<std::pair<double, std::string>> y_ticks;
  for (int l = o.layers.front(); l <= o.layers.back(); ++l) y_ticks.push_back({l, std::to_string(l)});
  y_ticks.push_back({top, "none"});
  const std::vector<MinLayers> table = MinimumLayers(o, runs);
  std::vector<Chart> panels;
  for (const std::string& group : o.groups) {
    Chart c;
    c.title = group;
    c.x = {"sequence length", std::nullopt, std::nullopt, {}};
    for (int64_t len : o.lens) c.x.ticks.push_back({static_cast<double>(len), std::to_string(len)});
    c.y = {"min layers", o.layers.front() - 0.5, top + 0.5, y_ticks};
    for (size_t v = 0; v < o.variants.size(); ++v) {
      ChartSeries s{VariantLabel(o.variants[v]), SeriesColor(static_cast<int>(v)), {}, 3, true};
      for (const MinLayers& m : table) {
        if (m.group == group && m.variant == o.variants[v])
          s.points.push_back({static_cast<double>(m.len), static_cast<double>(m.layers == 0 ? top : m.layers)});
      }
      c.series.push_back(std::move(s));
    }
    panels.push_back(std::move(c));
  }
  return SaveCharts(dir + "/min_layers.png", panels);
}

Status PlotMqar(const std::string& dir, const MqarOptions& o, const std::vector<MqarRun>& runs) {
  Chart c;
  c.title = "MQAR: best accuracy of " + std::to_string(o.lrs.size()) + " learning rates";
  c.x = {"key-value pairs", std::nullopt, std::nullopt, {}};
  for (const MqarCell& cell : o.cells) {
    c.x.ticks.push_back({std::log2(static_cast<double>(cell.pairs)),
                         std::to_string(cell.pairs) + " (T " + std::to_string(cell.seq_len) + ")"});
  }
  std::sort(c.x.ticks.begin(), c.x.ticks.end());
  if (c.x.ticks.size() == 1) c.x.max = c.x.ticks[0].first + 1;
  c.y = {"accuracy %", 0.0, 100.0, {}};
  c.legend_below = true;
  const std::vector<MqarRun> best = BestPerCell(o, runs);
  for (size_t w = 0; w < o.widths.size(); ++w) {
    ChartSeries s{"width " + std::to_string(o.widths[w]), SeriesColor(static_cast<int>(w)), {}, 3, true};
    for (const MqarRun& r : best) {
      if (r.width == o.widths[w])
        s.points.push_back({std::log2(static_cast<double>(r.cell.pairs)), 100.0 * r.result.val.token_acc});
    }
    c.series.push_back(std::move(s));
  }
  return SaveCharts(dir + "/accuracy.png", {c});
}

Status PlotAblation(const std::string& dir, const AblationOptions& o,
                    const std::vector<AblationRun>& runs) {
  Chart c;
  c.title = "ablations: validation loss, mean of " + std::to_string(o.seeds) + " seeds";
  c.x = {"step", 0.0, std::nullopt, {}};
  c.y = {"val loss", std::nullopt, std::nullopt, {}};
  for (size_t v = 0; v < o.variants.size(); ++v) {
    std::map<int64_t, std::pair<double, int>> by_step;  // step → (sum, count)
    for (const AblationRun& r : runs) {
      if (!(r.variant == o.variants[v])) continue;
      for (const LogRow& row : r.log) {
        if (row.val_loss < 0) continue;
        by_step[row.step].first += row.val_loss;
        ++by_step[row.step].second;
      }
    }
    ChartSeries s{o.variants[v].Name(), SeriesColor(static_cast<int>(v)), {}, 2, true};
    for (const auto& [step, sum] : by_step)
      s.points.push_back({static_cast<double>(step), sum.first / sum.second});
    c.series.push_back(std::move(s));
  }
  return SaveCharts(dir + "/val_loss.png", {c});
}

}  // namespace anser::cli
