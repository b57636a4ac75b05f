// anser plot-loss: the train and validation loss of a training log.csv against the step, as a
// PNG (axes, ticks and labels in a built-in bitmap font; no plotting library needed).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "common.h"
#include "plot_canvas.h"
#include "train/train_log.h"

namespace anser::cli {
namespace {

constexpr int kWidth = 900, kHeight = 540;
constexpr int kLeft = 80, kRight = kWidth - 30, kTop = 40, kBottom = kHeight - 60;
constexpr Rgb kWhite{255, 255, 255}, kBlack{0, 0, 0}, kGrid{225, 225, 225};
constexpr Rgb kTrain{70, 110, 200}, kVal{230, 120, 20};

struct PlotArgs {
  std::string log;
  std::string out;
};

// A round tick spacing (1, 2 or 5 × 10^k) giving about `count` ticks over `range`.
double TickStep(double range, int count) {
  const double raw = range / count;
  const double p = std::pow(10.0, std::floor(std::log10(raw)));
  for (double m : {1.0, 2.0, 5.0}) {
    if (raw <= m * p) return m * p;
  }
  return 10.0 * p;
}

std::string TickLabel(double v, double step) {
  const int decimals = std::max(0, static_cast<int>(-std::floor(std::log10(step) + 1e-9)));
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.*f", decimals, v);
  return buf;
}

int RunPlot(const PlotArgs& a) {
  auto rows = ReadLog(a.log);
  if (!rows.ok()) return Fail(rows.message());
  if (rows->empty()) return Fail("'" + a.log + "' has no rows to plot");
  double x_max = 1, y_min = INFINITY, y_max = -INFINITY;
  for (const LogRow& r : *rows) {
    x_max = std::max(x_max, static_cast<double>(r.step));
    for (double y : {r.loss, r.val_loss}) {
      if (y < 0 || !std::isfinite(y)) continue;
      y_min = std::min(y_min, y);
      y_max = std::max(y_max, y);
    }
  }
  if (!std::isfinite(y_min)) return Fail("'" + a.log + "' has no finite loss values");
  if (y_max - y_min < 1e-6) y_min -= 0.5, y_max += 0.5;
  const double y_step = TickStep(y_max - y_min, 6);
  y_min = std::floor(y_min / y_step) * y_step;
  y_max = std::ceil(y_max / y_step) * y_step;
  const double x_step = TickStep(x_max, 8);
  x_max = std::ceil(x_max / x_step) * x_step;
  auto px = [&](double step) { return kLeft + (kRight - kLeft) * step / x_max; };
  auto py = [&](double loss) {
    return kBottom - (kBottom - kTop) * (loss - y_min) / (y_max - y_min);
  };

  Canvas canvas(kWidth, kHeight, kWhite);
  for (double y = y_min; y <= y_max + y_step / 2; y += y_step) {
    const int yy = static_cast<int>(std::lround(py(y)));
    canvas.Line(kLeft, yy, kRight, yy, kGrid, 1);
    const std::string label = TickLabel(y, y_step);
    canvas.Line(kLeft - 6, yy, kLeft, yy, kBlack, 1);
    canvas.Text(kLeft - 10 - Canvas::TextWidth(label, 2), yy - 7, label, kBlack, 2);
  }
  for (double x = 0; x <= x_max + x_step / 2; x += x_step) {
    const int xx = static_cast<int>(std::lround(px(x)));
    canvas.Line(xx, kTop, xx, kBottom, kGrid, 1);
    const std::string label = TickLabel(x, std::max(1.0, x_step));
    canvas.Line(xx, kBottom, xx, kBottom + 6, kBlack, 1);
    canvas.Text(xx - Canvas::TextWidth(label, 2) / 2, kBottom + 12, label, kBlack, 2);
  }
  canvas.Line(kLeft, kTop, kLeft, kBottom, kBlack, 2);
  canvas.Line(kLeft, kBottom, kRight, kBottom, kBlack, 2);
  canvas.Text((kLeft + kRight - Canvas::TextWidth("step", 2)) / 2, kBottom + 36, "step", kBlack, 2);
  canvas.Text(kLeft - Canvas::TextWidth("loss", 2) / 2, kTop - 26, "loss", kBlack, 2);

  // Train loss: every step, thin; validation: the evaluated steps, thick with markers.
  for (size_t i = 1; i < rows->size(); ++i) {
    const LogRow &p = (*rows)[i - 1], &q = (*rows)[i];
    canvas.Line(px(static_cast<double>(p.step)), py(p.loss), px(static_cast<double>(q.step)),
                py(q.loss), kTrain, 1);
  }
  const LogRow* prev = nullptr;
  for (const LogRow& r : *rows) {
    if (r.val_loss < 0) continue;
    const double x = px(static_cast<double>(r.step)), y = py(r.val_loss);
    if (prev != nullptr)
      canvas.Line(px(static_cast<double>(prev->step)), py(prev->val_loss), x, y, kVal, 3);
    canvas.FillRect(static_cast<int>(x) - 3, static_cast<int>(y) - 3, static_cast<int>(x) + 3,
                    static_cast<int>(y) + 3, kVal);
    prev = &r;
  }
  // Legend, top right.
  const int lx = kRight - 150, ly = kTop + 10;
  canvas.FillRect(lx - 10, ly - 8, kRight - 10, ly + 50, kWhite);
  canvas.Line(lx, ly + 7, lx + 30, ly + 7, kTrain, 2);
  canvas.Text(lx + 40, ly, "train", kBlack, 2);
  canvas.Line(lx, ly + 35, lx + 30, ly + 35, kVal, 3);
  canvas.Text(lx + 40, ly + 28, "val", kBlack, 2);
  const Status saved = canvas.SavePng(a.out);
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
