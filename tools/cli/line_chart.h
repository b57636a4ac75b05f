// Line charts on the PNG canvas: one or more panels side by side, each with a title, axes with
// round (or given) ticks, and series of points drawn as lines with optional markers, and a
// legend. What `anser plot-loss` and `anser experiment` draw.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "anser/status.h"
#include "plot_canvas.h"

namespace anser::cli {

struct ChartSeries {
  std::string label;  // in the legend; empty: not listed
  Rgb color;
  std::vector<std::pair<double, double>> points;  // (x, y), drawn in order
  int thickness = 2;
  bool markers = true;
};

struct ChartAxis {
  std::string label;
  std::optional<double> min, max;  // the data's range (rounded to ticks) when not given
  // Ticks at these values with these labels; empty: round values spaced automatically.
  std::vector<std::pair<double, std::string>> ticks;
};

struct Chart {
  std::string title;
  ChartAxis x, y;
  std::vector<ChartSeries> series;
  bool legend_below = false;  // the legend in the lower right corner (else the upper right)
};

// A colour for series `i`, distinct for the first eight.
Rgb SeriesColor(int i);

// The panels left to right in one image.
Status SaveCharts(const std::string& path, const std::vector<Chart>& panels);

}  // namespace anser::cli
