// Unicode code point sets and their UTF-8 byte patterns: character classes become byte ranges.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace anser::grammar {

constexpr uint32_t kMaxCodepoint = 0x10FFFF;

struct CodepointRange {
  uint32_t lo = 0;
  uint32_t hi = 0;
  bool operator==(const CodepointRange&) const = default;
};

// Sorted, disjoint, non-adjacent ranges of Unicode scalar values (no surrogates).
using CodepointSet = std::vector<CodepointRange>;

// Sorts and merges `ranges`, drops surrogates (D800–DFFF, which UTF-8 cannot carry) and
// anything above U+10FFFF.
CodepointSet Normalize(CodepointSet ranges);
// Every scalar value not in `set`.
CodepointSet Complement(const CodepointSet& set);
// Scalar values in `a` but not in `b`.
CodepointSet Subtract(const CodepointSet& a, const CodepointSet& b);
bool Contains(const CodepointSet& set, uint32_t cp);

struct ByteRange {
  uint8_t lo = 0;
  uint8_t hi = 0;
};

// The UTF-8 encodings of `set` as byte-range sequences: a byte string encodes a member of the
// set iff it matches one sequence (each byte within the range at its position). The sequences'
// languages are disjoint.
std::vector<std::vector<ByteRange>> Utf8Sequences(const CodepointSet& set);

// The UTF-8 bytes of one scalar value.
std::string EncodeUtf8(uint32_t cp);

// The character at the start of `text` (well-formed UTF-8 lead and continuation bytes; no
// check for overlong forms), or nullopt.
struct DecodedChar {
  uint32_t cp = 0;
  int length = 0;  // bytes
};
std::optional<DecodedChar> DecodeUtf8Char(std::string_view text);

// 0–15 for a hex digit, else -1.
int HexDigitValue(char c);

}  // namespace anser::grammar
