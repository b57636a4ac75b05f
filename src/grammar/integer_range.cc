#include "grammar/integer_range.h"

#include <algorithm>
#include <vector>

#include "core/check.h"
#include "grammar/gbnf_text.h"

namespace anser::grammar {
namespace {

constexpr int64_t kLargest = 9'999'999'999'999'999;  // kMaxIntegerDigits nines

std::string DigitClass(char lo, char hi) {
  if (lo == hi) return Concat({"\"", std::string(1, lo), "\""});
  if (lo == '0' && hi == '9') return "[0-9]";
  return std::string("[") + lo + "-" + hi + "]";
}

std::string AnyDigits(size_t n) {
  if (n == 0) return "";
  return n == 1 ? "[0-9]" : "[0-9]{" + std::to_string(n) + "}";
}

// Digit strings of one length between a and b inclusive (same length, a <= b).
std::string SameLength(const std::string& a, const std::string& b) {
  if (a.empty()) return "\"\"";
  if (a == b) return Concat({"\"", a, "\""});
  const size_t rest = a.size() - 1;
  if (a[0] == b[0]) {
    return Concat({"\"", a.substr(0, 1), "\" ", SameLength(a.substr(1), b.substr(1))});
  }
  std::vector<std::string> alternatives;
  const std::string low_tail = a.substr(1);
  const std::string high_tail = b.substr(1);
  const bool low_full = low_tail == std::string(rest, '0');
  const bool high_full = high_tail == std::string(rest, '9');
  char from = a[0];
  char to = b[0];
  if (!low_full) {
    alternatives.push_back(
        Concat({"\"", a.substr(0, 1), "\" ", SameLength(low_tail, std::string(rest, '9'))}));
    ++from;
  }
  std::string high_part;
  if (!high_full) {
    high_part =
        Concat({"\"", b.substr(0, 1), "\" ", SameLength(std::string(rest, '0'), high_tail)});
    --to;
  }
  if (from <= to) {
    const std::string tail = AnyDigits(rest);
    alternatives.push_back(Concat({DigitClass(from, to), tail.empty() ? "" : " ", tail}));
  }
  if (!high_part.empty()) alternatives.push_back(high_part);
  return JoinAlternatives(alternatives);
}

// Non-negative integers in [a, b], b <= kLargest.
std::string NonNegative(int64_t a, int64_t b) {
  std::vector<std::string> alternatives;
  std::string low = std::to_string(a);
  const std::string high = std::to_string(b);
  while (low.size() < high.size()) {
    // [low, 99…9] of low's length
    alternatives.push_back(SameLength(low, std::string(low.size(), '9')));
    low = Concat({"1", std::string(low.size(), '0')});
  }
  alternatives.push_back(SameLength(low, high));
  return JoinAlternatives(alternatives);
}

}  // namespace

std::string IntegerRangeGbnf(std::optional<int64_t> lo, std::optional<int64_t> hi) {
  const int64_t from = std::max(lo.value_or(-kLargest), -kLargest);
  const int64_t to = std::min(hi.value_or(kLargest), kLargest);
  ANSER_CHECK(from <= to, "IntegerRangeGbnf: empty range");
  std::vector<std::string> alternatives;
  if (from < 0) {
    // -x for x in [max(1, -to), -from]
    alternatives.push_back(Concat({"\"-\" ", NonNegative(std::max<int64_t>(1, -to), -from)}));
  }
  if (to >= 0) alternatives.push_back(NonNegative(std::max<int64_t>(0, from), to));
  return JoinAlternatives(alternatives);
}

}  // namespace anser::grammar
