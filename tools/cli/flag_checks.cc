#include "flag_checks.h"

#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace anser::cli {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

// "0.5", "256", "1e+06": whole values without a fraction, others as %g.
std::string Plain(double x) {
  if (std::abs(x) < 1e15 && x == std::floor(x)) return std::to_string(static_cast<int64_t>(x));
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%g", x);
  return buffer;
}

// "in (0, 1]", ">= 0", "<= 5", or "" for the whole line.
std::string RangeText(double lo, double hi, bool lo_open, bool hi_open) {
  if (lo == -kInf && hi == kInf) return "";
  if (hi == kInf) return std::string(lo_open ? "> " : ">= ") + Plain(lo);
  if (lo == -kInf) return std::string(hi_open ? "< " : "<= ") + Plain(hi);
  return std::string("in ") + (lo_open ? "(" : "[") + Plain(lo) + ", " + Plain(hi) +
         (hi_open ? ")" : "]");
}

// "got 7, must be in (0, 1]"; "got x, must be a finite number in (0, 1]".
std::string Refusal(const std::string& text, const std::string& what, const std::string& range) {
  std::string message = "got " + text + ", must be";
  if (!what.empty()) message += " " + what;
  if (!range.empty()) message += " " + range;
  return message;
}

}  // namespace

CLI::Validator InRange(double lo, double hi, bool lo_open, bool hi_open) {
  const std::string range = RangeText(lo, hi, lo_open, hi_open);
  return CLI::Validator(
      [=](std::string& text) -> std::string {
        char* end = nullptr;
        const double x = std::strtod(text.c_str(), &end);
        const bool number = !text.empty() && end == text.c_str() + text.size();
        const bool inside = (lo_open ? x > lo : x >= lo) && (hi_open ? x < hi : x <= hi);
        if (!number || !std::isfinite(x)) return Refusal(text, "a finite number", range);
        return inside ? "" : Refusal(text, "", range);
      },
      range.empty() ? "NUMBER" : "NUMBER " + range);
}

CLI::Validator AtLeast(double lo) { return InRange(lo, kInf); }

CLI::Validator Finite() { return InRange(-kInf, kInf); }

CLI::Validator WholeInRange(int64_t lo, int64_t hi) {
  const std::string range = hi == kNoUpperBound
                                ? ">= " + std::to_string(lo)
                                : "in [" + std::to_string(lo) + ", " + std::to_string(hi) + "]";
  return CLI::Validator(
      [=](std::string& text) -> std::string {
        errno = 0;
        char* end = nullptr;
        const long long x = std::strtoll(text.c_str(), &end, 10);
        const bool whole = !text.empty() && end == text.c_str() + text.size() && errno == 0;
        if (!whole) return Refusal(text, "a whole number", range);
        if (x > hi && hi == kNoUpperBound)
          return Refusal(text, "", range + " and <= " + std::to_string(hi));
        return x >= lo && x <= hi ? "" : Refusal(text, "", range);
      },
      "INT " + range);
}

CLI::Validator UnsignedWhole() {
  return CLI::Validator(
      [](std::string& text) -> std::string {
        errno = 0;
        char* end = nullptr;
        std::strtoull(text.c_str(), &end, 10);
        const bool digits = !text.empty() && std::isdigit(static_cast<unsigned char>(text[0]));
        if (digits && end == text.c_str() + text.size() && errno == 0) return "";
        return Refusal(text, "a whole number", "in [0, 18446744073709551615]");
      },
      "UINT");
}

}  // namespace anser::cli
