#include "line_chart.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace anser::cli {
namespace {

constexpr int kPanelWidth = 900, kHeight = 540;
constexpr int kLeft = 80, kRightMargin = 30, kTop = 50, kBottom = kHeight - 60;
constexpr Rgb kWhite{255, 255, 255}, kBlack{0, 0, 0}, kGrid{225, 225, 225};

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

// The axis range and its ticks: given ones, or round ones covering the data.
struct Scale {
  double lo = 0, hi = 1;
  std::vector<std::pair<double, std::string>> ticks;
};

Scale MakeScale(const ChartAxis& axis, double data_lo, double data_hi, int tick_count) {
  Scale s;
  if (!axis.ticks.empty()) {
    s.ticks = axis.ticks;
    s.lo = axis.min.value_or(axis.ticks.front().first);
    s.hi = axis.max.value_or(axis.ticks.back().first);
    if (s.hi <= s.lo) s.hi = s.lo + 1;
    return s;
  }
  double lo = axis.min.value_or(data_lo), hi = axis.max.value_or(data_hi);
  if (!(hi - lo > 1e-9)) lo -= 0.5, hi += 0.5;
  const double step = TickStep(hi - lo, tick_count);
  s.lo = axis.min ? lo : std::floor(lo / step) * step;
  s.hi = axis.max ? hi : std::ceil(hi / step) * step;
  for (double v = std::ceil(s.lo / step) * step; v <= s.hi + step / 2; v += step)
    s.ticks.push_back({v, TickLabel(v, step)});
  return s;
}

void DrawPanel(Canvas& canvas, int x0, const Chart& chart) {
  const int left = x0 + kLeft, right = x0 + kPanelWidth - kRightMargin;
  double x_lo = INFINITY, x_hi = -INFINITY, y_lo = INFINITY, y_hi = -INFINITY;
  for (const ChartSeries& s : chart.series) {
    for (const auto& [x, y] : s.points) {
      if (!std::isfinite(x) || !std::isfinite(y)) continue;
      x_lo = std::min(x_lo, x), x_hi = std::max(x_hi, x);
      y_lo = std::min(y_lo, y), y_hi = std::max(y_hi, y);
    }
  }
  if (!std::isfinite(x_lo)) x_lo = 0, x_hi = 1, y_lo = 0, y_hi = 1;
  const Scale xs = MakeScale(chart.x, x_lo, x_hi, 8), ys = MakeScale(chart.y, y_lo, y_hi, 6);
  auto px = [&](double x) { return left + (right - left) * (x - xs.lo) / (xs.hi - xs.lo); };
  auto py = [&](double y) { return kBottom - (kBottom - kTop) * (y - ys.lo) / (ys.hi - ys.lo); };
  for (const auto& [v, label] : ys.ticks) {
    const int yy = static_cast<int>(std::lround(py(v)));
    canvas.Line(left, yy, right, yy, kGrid, 1);
    canvas.Line(left - 6, yy, left, yy, kBlack, 1);
    canvas.Text(left - 10 - Canvas::TextWidth(label, 2), yy - 7, label, kBlack, 2);
  }
  for (const auto& [v, label] : xs.ticks) {
    const int xx = static_cast<int>(std::lround(px(v)));
    canvas.Line(xx, kTop, xx, kBottom, kGrid, 1);
    canvas.Line(xx, kBottom, xx, kBottom + 6, kBlack, 1);
    canvas.Text(xx - Canvas::TextWidth(label, 2) / 2, kBottom + 12, label, kBlack, 2);
  }
  canvas.Line(left, kTop, left, kBottom, kBlack, 2);
  canvas.Line(left, kBottom, right, kBottom, kBlack, 2);
  canvas.Text((left + right - Canvas::TextWidth(chart.x.label, 2)) / 2, kBottom + 36, chart.x.label,
              kBlack, 2);
  canvas.Text(left - Canvas::TextWidth(chart.y.label, 2) / 2, kTop - 22, chart.y.label, kBlack, 2);
  canvas.Text((left + right - Canvas::TextWidth(chart.title, 2)) / 2, 8, chart.title, kBlack, 2);
  for (const ChartSeries& s : chart.series) {
    for (size_t i = 0; i < s.points.size(); ++i) {
      const double x = px(s.points[i].first), y = py(s.points[i].second);
      if (i > 0) {
        canvas.Line(px(s.points[i - 1].first), py(s.points[i - 1].second), x, y, s.color,
                    s.thickness);
      }
      if (s.markers) {
        canvas.FillRect(static_cast<int>(x) - 3, static_cast<int>(y) - 3, static_cast<int>(x) + 3,
                        static_cast<int>(y) + 3, s.color);
      }
    }
  }
  // Legend, top right: a box as wide as the longest label.
  int widest = 0, entries = 0;
  for (const ChartSeries& s : chart.series) {
    if (s.label.empty()) continue;
    widest = std::max(widest, Canvas::TextWidth(s.label, 2));
    ++entries;
  }
  if (entries == 0) return;
  const int lx = right - widest - 60;
  const int ly = chart.legend_below ? kBottom - 28 * entries - 4 : kTop + 10;
  canvas.FillRect(lx - 10, ly - 8, right - 10, ly + 28 * entries - 6, kWhite);
  int row = 0;
  for (const ChartSeries& s : chart.series) {
    if (s.label.empty()) continue;
    const int y = ly + 28 * row++;
    canvas.Line(lx, y + 7, lx + 30, y + 7, s.color, std::max(2, s.thickness));
    canvas.Text(lx + 40, y, s.label, kBlack, 2);
  }
}

}  // namespace

Rgb SeriesColor(int i) {
  static constexpr Rgb kPalette[] = {{70, 110, 200}, {230, 120, 20}, {40, 160, 70},  {200, 50, 50},
                                     {140, 90, 190}, {140, 90, 60},  {220, 110, 180}, {90, 90, 90}};
  return kPalette[i % 8];
}

Status SaveCharts(const std::string& path, const std::vector<Chart>& panels) {
  Canvas canvas(kPanelWidth * static_cast<int>(std::max<size_t>(panels.size(), 1)), kHeight, kWhite);
  for (size_t i = 0; i < panels.size(); ++i) DrawPanel(canvas, static_cast<int>(i) * kPanelWidth, panels[i]);
  return canvas.SavePng(path);
}

}  // namespace anser::cli
