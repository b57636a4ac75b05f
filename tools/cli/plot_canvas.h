// A small RGB raster for the CLI's plots: lines, rectangles, text in a built-in 5×7 bitmap font
// (digits, letters and a few signs: . , - + / % ( ) : _ = < >), and PNG encoding
// (zlib-compressed IDAT).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "anser/status.h"

namespace anser::cli {

struct Rgb {
  uint8_t r = 0, g = 0, b = 0;
};

class Canvas {
 public:
  Canvas(int width, int height, Rgb background);

  int width() const { return width_; }
  int height() const { return height_; }

  void Set(int x, int y, Rgb c);                         // ignores points outside
  void FillRect(int x0, int y0, int x1, int y1, Rgb c);  // inclusive corners
  // A line of `thickness` pixels between two points (Bresenham, each point a square brush).
  void Line(double x0, double y0, double x1, double y1, Rgb c, int thickness);
  // Text with its top-left corner at (x, y), `scale` pixels a font pixel; characters the font
  // lacks are drawn as blanks. TextWidth is the width it takes.
  void Text(int x, int y, const std::string& text, Rgb c, int scale);
  static int TextWidth(const std::string& text, int scale);

  // The image as a PNG file (8-bit RGB, no interlace), written atomically.
  Status SavePng(const std::string& path) const;

 private:
  int width_, height_;
  std::vector<uint8_t> pixels_;  // RGB rows, top to bottom
};

}  // namespace anser::cli
