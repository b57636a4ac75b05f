#include "grammar/codepoints.h"

#include <algorithm>

namespace anser::grammar {
namespace {

constexpr uint32_t kSurrogateLo = 0xD800;
constexpr uint32_t kSurrogateHi = 0xDFFF;

int EncodedLength(uint32_t cp) { return cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4; }

// The first code point of each UTF-8 length: a range is split at these so that both ends
// encode to the same number of bytes.
constexpr uint32_t kLengthStarts[] = {0x80, 0x800, 0x10000};

// [lo, hi] with both ends of one encoded length, split until every piece is a product of byte
// ranges: the pieces whose ends differ above some 6-bit continuation group must cover that
// group entirely, otherwise the byte ranges would admit combinations outside [lo, hi].
void SplitSameLength(uint32_t lo, uint32_t hi, std::vector<std::vector<ByteRange>>* out) {
  const int length = EncodedLength(lo);
  for (int i = 1; i < length; ++i) {
    const uint32_t low_bits = (uint32_t{1} << (6 * i)) - 1;
    if ((lo & ~low_bits) == (hi & ~low_bits)) continue;
    if ((lo & low_bits) != 0) {
      SplitSameLength(lo, lo | low_bits, out);
      SplitSameLength((lo | low_bits) + 1, hi, out);
      return;
    }
    if ((hi & low_bits) != low_bits) {
      SplitSameLength(lo, (hi & ~low_bits) - 1, out);
      SplitSameLength(hi & ~low_bits, hi, out);
      return;
    }
  }
  const std::string a = EncodeUtf8(lo);
  const std::string b = EncodeUtf8(hi);
  std::vector<ByteRange> sequence(a.size());
  for (size_t k = 0; k < a.size(); ++k) {
    sequence[k] = {static_cast<uint8_t>(a[k]), static_cast<uint8_t>(b[k])};
  }
  out->push_back(std::move(sequence));
}

}  // namespace

CodepointSet Normalize(CodepointSet ranges) {
  CodepointSet clipped;
  for (CodepointRange r : ranges) {
    r.hi = std::min(r.hi, kMaxCodepoint);
    if (r.lo > r.hi) continue;
    // Cut the surrogates out.
    if (r.lo < kSurrogateLo && r.hi >= kSurrogateLo) {
      clipped.push_back({r.lo, kSurrogateLo - 1});
      if (r.hi > kSurrogateHi) clipped.push_back({kSurrogateHi + 1, r.hi});
    } else if (r.lo >= kSurrogateLo && r.lo <= kSurrogateHi) {
      if (r.hi > kSurrogateHi) clipped.push_back({kSurrogateHi + 1, r.hi});
    } else {
      clipped.push_back(r);
    }
  }
  std::sort(clipped.begin(), clipped.end(),
            [](const CodepointRange& a, const CodepointRange& b) { return a.lo < b.lo; });
  CodepointSet merged;
  for (const CodepointRange& r : clipped) {
    if (!merged.empty() && r.lo <= merged.back().hi + 1) {
      merged.back().hi = std::max(merged.back().hi, r.hi);
    } else {
      merged.push_back(r);
    }
  }
  return merged;
}

CodepointSet Complement(const CodepointSet& set) {
  CodepointSet out;
  uint32_t next = 0;
  for (const CodepointRange& r : set) {
    if (r.lo > next) out.push_back({next, r.lo - 1});
    next = r.hi + 1;
  }
  if (next <= kMaxCodepoint) out.push_back({next, kMaxCodepoint});
  return Normalize(std::move(out));
}

CodepointSet Subtract(const CodepointSet& a, const CodepointSet& b) {
  // a − b = complement(complement(a) ∪ b)
  CodepointSet u = Complement(a);
  u.insert(u.end(), b.begin(), b.end());
  return Complement(Normalize(std::move(u)));
}

bool Contains(const CodepointSet& set, uint32_t cp) {
  return std::any_of(set.begin(), set.end(),
                     [cp](const CodepointRange& r) { return r.lo <= cp && cp <= r.hi; });
}

std::vector<std::vector<ByteRange>> Utf8Sequences(const CodepointSet& set) {
  std::vector<std::vector<ByteRange>> out;
  for (CodepointRange r : set) {
    for (uint32_t start : kLengthStarts) {
      if (r.lo < start && r.hi >= start) {
        SplitSameLength(r.lo, start - 1, &out);
        r.lo = start;
      }
    }
    SplitSameLength(r.lo, r.hi, &out);
  }
  return out;
}

std::string EncodeUtf8(uint32_t cp) {
  std::string s;
  if (cp < 0x80) {
    s += static_cast<char>(cp);
  } else if (cp < 0x800) {
    s += static_cast<char>(0xC0 | (cp >> 6));
    s += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    s += static_cast<char>(0xE0 | (cp >> 12));
    s += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    s += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    s += static_cast<char>(0xF0 | (cp >> 18));
    s += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    s += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    s += static_cast<char>(0x80 | (cp & 0x3F));
  }
  return s;
}

std::optional<DecodedChar> DecodeUtf8Char(std::string_view text) {
  if (text.empty()) return std::nullopt;
  const auto lead = static_cast<unsigned char>(text[0]);
  const int length = lead < 0x80         ? 1
                     : (lead >> 5) == 6  ? 2
                     : (lead >> 4) == 14 ? 3
                     : (lead >> 3) == 30 ? 4
                                         : 0;
  if (length == 0 || text.size() < static_cast<size_t>(length)) return std::nullopt;
  uint32_t cp = length == 1 ? lead : lead & (0x7F >> length);
  for (int k = 1; k < length; ++k) {
    const auto next = static_cast<unsigned char>(text[k]);
    if ((next & 0xC0) != 0x80) return std::nullopt;
    cp = (cp << 6) | (next & 0x3F);
  }
  return DecodedChar{cp, length};
}

int HexDigitValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace anser::grammar
