#include "grammar/regex_to_gbnf.h"

#include <algorithm>
#include <optional>
#include <vector>

#include "grammar/codepoints.h"
#include "grammar/gbnf_text.h"

namespace anser::grammar {
namespace {

constexpr int kMaxRepeat = 10000;
constexpr int kMaxNesting = 100;

const CodepointSet& Digits() {
  static const CodepointSet kSet = {{'0', '9'}};
  return kSet;
}
const CodepointSet& WordChars() {
  static const CodepointSet kSet = Normalize({{'0', '9'}, {'A', 'Z'}, {'_', '_'}, {'a', 'z'}});
  return kSet;
}
const CodepointSet& Spaces() {
  static const CodepointSet kSet = Normalize({{'\t', '\r'}, {' ', ' '}});
  return kSet;
}
// Printable ASCII: the negated shorthands (\D, \W, \S) are limited to it, because Python and
// ECMAScript disagree on which non-ASCII characters count as digits, word characters and spaces.
const CodepointSet& PrintableAscii() {
  static const CodepointSet kSet = {{0x20, 0x7E}};
  return kSet;
}
// `.`: anything but the line terminators of ECMAScript (Python's `.` excludes only \n).
const CodepointSet& AnyButNewline() {
  static const CodepointSet kSet =
      Complement(Normalize({{'\n', '\n'}, {'\r', '\r'}, {0x2028, 0x2029}}));
  return kSet;
}

class RegexConverter {
 public:
  explicit RegexConverter(std::string_view pattern) : p_(pattern) {}

  Result<std::string> Convert() {
    std::vector<std::string> alternatives;
    while (true) {
      const bool anchored_start = Eat('^');
      Result<std::string> body = Sequence(/*depth=*/0, /*top_level=*/true);
      if (!body.ok()) return body;
      const bool anchored_end = Eat('$');
      std::string alternative;
      const std::string any = JsonStringChars(Complement({})) + "*";
      if (!anchored_start) alternative += any + " ";
      alternative += "(" + *body + ")";
      if (!anchored_end) alternative += " " + any;
      alternatives.push_back(alternative);
      if (AtEnd()) break;
      if (!Eat('|')) return Error("unexpected '" + std::string(1, Peek()) + "'");
    }
    return JoinAlternatives(alternatives);
  }

 private:
  bool AtEnd() const { return pos_ >= p_.size(); }
  char Peek() const { return AtEnd() ? '\0' : p_[pos_]; }
  bool Eat(char c) {
    if (Peek() != c || AtEnd()) return false;
    ++pos_;
    return true;
  }
  Status Error(const std::string& message) const {
    return Status::Error("[json-schema] pattern \"" + std::string(p_) + "\" at offset " +
                         std::to_string(pos_) + ": " + message);
  }

  Result<std::string> Alternation(int depth) {
    std::string out;
    int count = 0;
    do {
      Result<std::string> sequence = Sequence(depth, /*top_level=*/false);
      if (!sequence.ok()) return sequence;
      out += (count++ > 0 ? " | " : "") + (sequence->empty() ? "\"\"" : *sequence);
    } while (Eat('|'));
    return "(" + out + ")";
  }

  // Elements up to '|', ')' or the end ('$' ends a top-level sequence).
  Result<std::string> Sequence(int depth, bool top_level) {
    std::string out;
    while (!AtEnd() && Peek() != '|' && Peek() != ')') {
      if (Peek() == '$') {
        if (top_level && (pos_ + 1 == p_.size() || p_[pos_ + 1] == '|')) break;
        return Error("'$' is supported only at the end of a top-level alternative");
      }
      if (Peek() == '^')
        return Error("'^' is supported only at the start of a top-level alternative");
      Result<std::string> atom = Atom(depth);
      if (!atom.ok()) return atom;
      Result<std::string> quantified = Quantifier(*atom);
      if (!quantified.ok()) return quantified;
      out += (out.empty() ? "" : " ") + *quantified;
    }
    return out.empty() ? std::string("\"\"") : out;
  }

  Result<std::string> Atom(int depth) {
    const char c = Peek();
    if (c == '(') {
      if (depth >= kMaxNesting) return Error("groups nested too deep");
      ++pos_;
      if (Eat('?')) {
        if (!Eat(':'))
          return Error("only (?:…) groups are supported (no lookaround, named groups or flags)");
      }
      Result<std::string> inner = Alternation(depth + 1);
      if (!inner.ok()) return inner;
      if (!Eat(')')) return Error("missing ')'");
      return inner;
    }
    if (c == '[') return Class();
    if (c == '.') {
      ++pos_;
      return JsonStringChars(AnyButNewline());
    }
    if (c == '*' || c == '+' || c == '?' || (c == '{' && IsCountAt(pos_))) {
      return Error(std::string("quantifier '") + c + "' with nothing to repeat");
    }
    if (c == ']' || c == '}' || c == '{') {
      ++pos_;
      return JsonStringChars({{static_cast<uint32_t>(c), static_cast<uint32_t>(c)}});
    }
    Result<CodepointSet> set = c == '\\' ? Escape(/*in_class=*/false) : Char();
    if (!set.ok()) return set.status();
    return JsonStringChars(*set);
  }

  // One UTF-8 character of the pattern.
  Result<CodepointSet> Char() {
    const std::optional<DecodedChar> decoded = DecodeUtf8Char(p_.substr(pos_));
    if (!decoded) return Error("invalid UTF-8");
    pos_ += static_cast<size_t>(decoded->length);
    return CodepointSet{{decoded->cp, decoded->cp}};
  }

  Result<uint32_t> Hex(int digits) {
    uint32_t value = 0;
    for (int k = 0; k < digits; ++k) {
      const int v = AtEnd() ? -1 : HexDigitValue(Peek());
      if (v < 0) return Error("expected " + std::to_string(digits) + " hex digits");
      value = value * 16 + static_cast<uint32_t>(v);
      ++pos_;
    }
    return value;
  }

  // After a backslash: a set (a shorthand class or one character).
  Result<CodepointSet> Escape(bool in_class) {
    ++pos_;  // backslash
    if (AtEnd()) return Error("pattern ends with '\\'");
    const char e = p_[pos_++];
    auto one = [](uint32_t cp) { return CodepointSet{{cp, cp}}; };
    switch (e) {
      case 'd':
        return Digits();
      case 'w':
        return WordChars();
      case 's':
        return Spaces();
      case 'D':
        return Subtract(PrintableAscii(), Digits());
      case 'W':
        return Subtract(PrintableAscii(), WordChars());
      case 'S':
        return Subtract(PrintableAscii(), Spaces());
      case 't':
        return one('\t');
      case 'n':
        return one('\n');
      case 'r':
        return one('\r');
      case 'f':
        return one('\f');
      case 'v':
        return one('\v');
      case 'x': {
        Result<uint32_t> v = Hex(2);
        if (!v.ok()) return v.status();
        return one(*v);
      }
      case 'u': {
        Result<uint32_t> v = Hex(4);
        if (!v.ok()) return v.status();
        if (*v >= 0xD800 && *v <= 0xDFFF) return Error("surrogate escapes are not supported");
        return one(*v);
      }
      case 'b':
        if (in_class) return one('\b');
        return Error("'\\b' (word boundary) is not supported");
      default:
        if ((e >= 'a' && e <= 'z') || (e >= 'A' && e <= 'Z') || (e >= '0' && e <= '9')) {
          return Error(std::string("escape '\\") + e +
                       "' is not supported (backreferences, \\B, \\p{…} and the like)");
        }
        return one(static_cast<unsigned char>(e));  // an escaped metacharacter or punctuation
    }
  }

  Result<std::string> Class() {
    ++pos_;  // [
    const bool negated = Eat('^');
    CodepointSet set;
    bool first = true;
    while (AtEnd() || Peek() != ']' || first) {
      if (AtEnd()) return Error("missing ']'");
      first = false;
      Result<CodepointSet> lo = Peek() == '\\' ? Escape(/*in_class=*/true) : Char();
      if (!lo.ok()) return lo.status();
      if (Peek() == '-' && pos_ + 1 < p_.size() && p_[pos_ + 1] != ']') {
        ++pos_;
        Result<CodepointSet> hi = Peek() == '\\' ? Escape(/*in_class=*/true) : Char();
        if (!hi.ok()) return hi.status();
        if (lo->size() != 1 || hi->size() != 1 || lo->front().lo != lo->front().hi ||
            hi->front().lo != hi->front().hi) {
          return Error("a class range needs single characters at both ends");
        }
        if (hi->front().lo < lo->front().lo) return Error("class range out of order");
        set.push_back({lo->front().lo, hi->front().lo});
      } else {
        set.insert(set.end(), lo->begin(), lo->end());
      }
    }
    ++pos_;  // ]
    CodepointSet chars = Normalize(std::move(set));
    if (negated) chars = Complement(chars);
    if (chars.empty()) return Error("class matches no character");
    return JsonStringChars(chars);
  }

  Result<std::string> Quantifier(const std::string& atom) {
    int min = 1;
    int max = 1;
    if (Eat('*')) {
      min = 0;
      max = -1;
    } else if (Eat('+')) {
      max = -1;
    } else if (Eat('?')) {
      min = 0;
    } else if (Peek() == '{' && IsCountAt(pos_)) {
      ++pos_;
      const std::optional<int> lo = Count();
      if (Eat(',')) {
        const std::optional<int> hi = Count();
        min = lo.value_or(0);
        max = hi.value_or(-1);
      } else {
        min = max = lo.value_or(0);
      }
      if (!Eat('}')) return Error("expected '}'");
      if (max >= 0 && max < min) return Error("{m,n} needs m <= n");
      if (min > kMaxRepeat || max > kMaxRepeat) return Error("repetition count too large");
    } else {
      return atom;
    }
    Eat('?');  // lazy: the same set of strings
    if (Peek() == '+') return Error("possessive quantifiers are not supported");
    if (min == 0 && max == -1) return atom + "*";
    if (min == 1 && max == -1) return atom + "+";
    if (min == 0 && max == 1) return atom + "?";
    const std::string upper = max < 0 ? "" : std::to_string(max);
    return Concat(
        {atom, "{", std::to_string(min), min == max ? "" : ",", min == max ? "" : upper, "}"});
  }

  // Whether a '{' at `at` starts a {m}, {m,} or {m,n} quantifier (else it is a literal brace).
  bool IsCountAt(size_t at) const {
    size_t k = at + 1;
    bool digits = false;
    while (k < p_.size() && p_[k] >= '0' && p_[k] <= '9') {
      ++k;
      digits = true;
    }
    if (k < p_.size() && p_[k] == ',') {
      ++k;
      while (k < p_.size() && p_[k] >= '0' && p_[k] <= '9') ++k;
    }
    return digits && k < p_.size() && p_[k] == '}';
  }

  std::optional<int> Count() {
    if (Peek() < '0' || Peek() > '9') return std::nullopt;
    int value = 0;
    while (Peek() >= '0' && Peek() <= '9' && !AtEnd()) {
      value = std::min(value * 10 + (Peek() - '0'), kMaxRepeat + 1);
      ++pos_;
    }
    return value;
  }

  std::string_view p_;
  size_t pos_ = 0;
};

}  // namespace

Result<std::string> PatternToGbnf(std::string_view pattern) {
  return RegexConverter(pattern).Convert();
}

}  // namespace anser::grammar
