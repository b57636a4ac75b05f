// Range checks for numeric flags, in one house style. A value outside its range is refused when
// the command line is parsed, with a message naming the flag, the value and the range in plain
// numbers ("--top-p: got 7, must be in (0, 1]"); main turns it into exit status 2.
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <limits>

namespace anser::cli {

// A finite number in [lo, hi]; `lo_open`/`hi_open` exclude that end. An infinite end is left
// out of the message (">= 0").
CLI::Validator InRange(double lo, double hi, bool lo_open = false, bool hi_open = false);
// A finite number >= lo.
CLI::Validator AtLeast(double lo);
// Any finite number.
CLI::Validator Finite();

// A whole number in [lo, hi]. With hi = kNoUpperBound the message says ">= lo" (the flag's
// int type still caps it, and the message then names that cap).
inline constexpr int64_t kNoUpperBound = std::numeric_limits<int32_t>::max();
CLI::Validator WholeInRange(int64_t lo, int64_t hi = kNoUpperBound);

// A whole number in [0, 2^64 - 1] (seeds).
CLI::Validator UnsignedWhole();

// The most compute threads a flag accepts: far above any machine's cores, far below what would
// exhaust the process.
inline constexpr int64_t kMaxThreads = 1024;

}  // namespace anser::cli
