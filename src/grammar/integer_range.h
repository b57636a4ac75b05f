// Integers between bounds as GBNF over their decimal text.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace anser::grammar {

// Integers have at most this many digits in generated JSON (a bound on the output's length; it
// only ever removes values, never admits one a schema forbids).
constexpr int kMaxIntegerDigits = 16;

// A GBNF expression matching the canonical decimal text (no leading zeros, no "+", no "-0") of
// every integer in [lo, hi] with at most kMaxIntegerDigits digits. A missing bound is open.
// Requires lo <= hi when both are given.
std::string IntegerRangeGbnf(std::optional<int64_t> lo, std::optional<int64_t> hi);

}  // namespace anser::grammar
