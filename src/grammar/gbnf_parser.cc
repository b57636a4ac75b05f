#include "grammar/gbnf_parser.h"

#include <map>
#include <optional>
#include <utility>

namespace anser::grammar {
namespace {

// Repetition counts above this are refused: the automaton holds one copy per count.
constexpr int kMaxRepeat = 10000;
// Parentheses nested deeper than this are refused (the parser recurses once per level).
constexpr int kMaxNesting = 200;

bool IsNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_';
}

class Parser {
 public:
  Parser(std::string_view text, const std::string& root_rule) : text_(text), root_(root_rule) {}

  Result<GrammarAst> Parse() {
    SkipSpace(/*newlines=*/true);
    while (!AtEnd()) {
      if (Status s = ParseRule(); !s.ok()) return s;
      SkipSpace(/*newlines=*/true);
    }
    for (const Rule& rule : ast_.rules) {
      if (!rule.defined) {
        return ErrorAt(rule.line, rule.column,
                       "rule '" + rule.name + "' is used but never defined");
      }
    }
    const auto root = names_.find(root_);
    if (root == names_.end()) {
      return Status::Error("[grammar] no rule named '" + root_ +
                           "': the grammar starts there (define `" + root_ + " ::= …`)");
    }
    ast_.root = root->second;
    return std::move(ast_);
  }

 private:
  bool AtEnd() const { return pos_ >= text_.size(); }
  char Peek(size_t ahead = 0) const {
    return pos_ + ahead < text_.size() ? text_[pos_ + ahead] : '\0';
  }
  void Advance() {
    if (text_[pos_] == '\n') {
      ++line_;
      line_start_ = pos_ + 1;
    }
    ++pos_;
  }
  int Column() const { return static_cast<int>(pos_ - line_start_) + 1; }

  static Status ErrorAt(int line, int column, const std::string& message) {
    return Status::Error("[grammar] line " + std::to_string(line) + ", column " +
                         std::to_string(column) + ": " + message);
  }
  Status Error(const std::string& message) const { return ErrorAt(line_, Column(), message); }

  // Skips blanks and comments; newlines too when `newlines`.
  void SkipSpace(bool newlines) {
    while (!AtEnd()) {
      const char c = Peek();
      if (c == ' ' || c == '\t' || c == '\r' || (newlines && c == '\n')) {
        Advance();
      } else if (c == '#') {
        while (!AtEnd() && Peek() != '\n') Advance();
      } else {
        break;
      }
    }
  }

  std::string ParseName() {
    const size_t start = pos_;
    while (!AtEnd() && IsNameChar(Peek())) Advance();
    return std::string(text_.substr(start, pos_ - start));
  }

  int RuleIndex(const std::string& name, int line, int column) {
    const auto [it, inserted] = names_.emplace(name, static_cast<int>(ast_.rules.size()));
    if (inserted) {
      Rule rule;
      rule.name = name;
      rule.line = line;
      rule.column = column;
      ast_.rules.push_back(std::move(rule));
    }
    return it->second;
  }

  Status ParseRule() {
    const int line = line_;
    const int column = Column();
    const std::string name = ParseName();
    if (name.empty()) {
      return Error("expected a rule name (letters, digits, '-', '_'), found '" +
                   std::string(1, Peek()) + "'");
    }
    SkipSpace(/*newlines=*/false);
    if (text_.substr(pos_, 3) != "::=")
      return Error("expected '::=' after rule name '" + name + "'");
    for (int i = 0; i < 3; ++i) Advance();
    SkipSpace(/*newlines=*/true);
    const int index = RuleIndex(name, line, column);
    if (ast_.rules[index].defined) {
      return ErrorAt(line, column,
                     "rule '" + name + "' is defined twice (first on line " +
                         std::to_string(ast_.rules[index].line) + ")");
    }
    Result<Expr> body = ParseAlternatives(/*depth=*/0);
    if (!body.ok()) return body.status();
    if (!AtEnd() && Peek() != '\n') {
      return Error("unexpected '" + std::string(1, Peek()) +
                   "' (expected '|', an element or the end of the line)");
    }
    Rule& rule = ast_.rules[index];
    rule.body = std::move(*body);
    rule.defined = true;
    rule.line = line;
    rule.column = column;
    return Status::Ok();
  }

  Result<Expr> ParseAlternatives(int depth) {
    Expr alternatives;
    alternatives.kind = Expr::Kind::kAlternatives;
    alternatives.line = line_;
    alternatives.column = Column();
    while (true) {
      Result<Expr> sequence = ParseSequence(depth);
      if (!sequence.ok()) return sequence;
      alternatives.children.push_back(std::move(*sequence));
      if (Peek() != '|') break;
      Advance();
      SkipSpace(/*newlines=*/true);
    }
    if (alternatives.children.size() == 1) return std::move(alternatives.children[0]);
    return alternatives;
  }

  Result<Expr> ParseSequence(int depth) {
    Expr sequence;
    sequence.kind = Expr::Kind::kSequence;
    sequence.line = line_;
    sequence.column = Column();
    const bool nested = depth > 0;
    while (!AtEnd()) {
      const char c = Peek();
      if (c == '|' || c == ')' || c == '\n') break;
      const int line = line_;
      const int column = Column();
      Expr element;
      if (c == '"') {
        Result<Expr> literal = ParseLiteral();
        if (!literal.ok()) return literal;
        element = std::move(*literal);
      } else if (c == '[') {
        Result<Expr> cls = ParseClass();
        if (!cls.ok()) return cls;
        element = std::move(*cls);
      } else if (c == '.') {
        Advance();
        element.kind = Expr::Kind::kCharClass;
        element.chars = Complement({});
      } else if (c == '(') {
        if (depth >= kMaxNesting) return Error("parentheses nested too deep");
        Advance();
        SkipSpace(/*newlines=*/true);
        Result<Expr> inner = ParseAlternatives(depth + 1);
        if (!inner.ok()) return inner;
        if (Peek() != ')')
          return Error("expected ')' to close the group opened on line " + std::to_string(line) +
                       ", column " + std::to_string(column));
        Advance();
        element = std::move(*inner);
      } else if (IsNameChar(c)) {
        const std::string name = ParseName();
        element.kind = Expr::Kind::kRuleRef;
        element.rule = RuleIndex(name, line, column);
      } else {
        return Error("unexpected '" + std::string(1, c) + "'");
      }
      element.line = line;
      element.column = column;
      SkipSpace(nested);
      Result<Expr> repeated = ParsePostfix(std::move(element), nested);
      if (!repeated.ok()) return repeated;
      sequence.children.push_back(std::move(*repeated));
    }
    if (sequence.children.size() == 1) return std::move(sequence.children[0]);
    return sequence;
  }

  Result<Expr> ParsePostfix(Expr element, bool nested) {
    while (!AtEnd()) {
      const char c = Peek();
      int min = 0;
      int max = -1;
      if (c == '*') {
        Advance();
      } else if (c == '+') {
        min = 1;
        Advance();
      } else if (c == '?') {
        max = 1;
        Advance();
      } else if (c == '{') {
        Advance();
        SkipSpace(false);
        const std::optional<int> lo = ParseCount();
        SkipSpace(false);
        if (Peek() == '}') {
          if (!lo) return Error("expected a count in '{…}'");
          min = max = *lo;
        } else if (Peek() == ',') {
          Advance();
          SkipSpace(false);
          const std::optional<int> hi = ParseCount();
          SkipSpace(false);
          min = lo.value_or(0);
          max = hi.value_or(-1);
          if (hi && *hi < min) return Error("repetition {m,n} needs m <= n");
        } else {
          return Error("expected '}' or ',' in a repetition count");
        }
        if (Peek() != '}') return Error("expected '}' to close the repetition count");
        Advance();
      } else {
        break;
      }
      if (min > kMaxRepeat || max > kMaxRepeat) {
        return Error("repetition count above " + std::to_string(kMaxRepeat));
      }
      Expr repeat;
      repeat.kind = Expr::Kind::kRepeat;
      repeat.line = element.line;
      repeat.column = element.column;
      repeat.min = min;
      repeat.max = max;
      repeat.children.push_back(std::move(element));
      element = std::move(repeat);
      SkipSpace(nested);
    }
    return element;
  }

  std::optional<int> ParseCount() {
    if (Peek() < '0' || Peek() > '9') return std::nullopt;
    int value = 0;
    while (Peek() >= '0' && Peek() <= '9') {
      value = std::min(value * 10 + (Peek() - '0'), kMaxRepeat + 1);
      Advance();
    }
    return value;
  }

  // One character of a literal or class: a UTF-8 character or an escape, as a code point.
  Result<uint32_t> ParseChar() {
    if (AtEnd()) return Error("unexpected end of the grammar");
    const auto c = static_cast<unsigned char>(Peek());
    if (c == '\\') {
      Advance();
      const char e = Peek();
      if (AtEnd()) return Error("unexpected end after '\\'");
      Advance();
      switch (e) {
        case 'n':
          return uint32_t{'\n'};
        case 'r':
          return uint32_t{'\r'};
        case 't':
          return uint32_t{'\t'};
        case '\\':
        case '"':
        case '[':
        case ']':
        case '-':
          return uint32_t(static_cast<unsigned char>(e));
        case 'x':
          return ParseHex(2);
        case 'u':
          return ParseHex(4);
        case 'U':
          return ParseHex(8);
        default:
          return Error(std::string("unknown escape '\\") + e +
                       "' (known: \\n \\r \\t \\\\ \\\" \\[ \\] \\- \\xHH \\uHHHH \\UHHHHHHHH)");
      }
    }
    // A UTF-8 character of the grammar text.
    const std::optional<DecodedChar> decoded = DecodeUtf8Char(text_.substr(pos_));
    if (!decoded) return Error("invalid UTF-8 in the grammar text");
    for (int k = 0; k < decoded->length; ++k) Advance();
    return decoded->cp;
  }

  Result<uint32_t> ParseHex(int digits) {
    uint32_t value = 0;
    for (int k = 0; k < digits; ++k) {
      const int v = AtEnd() ? -1 : HexDigitValue(Peek());
      if (v < 0) return Error("expected " + std::to_string(digits) + " hex digits in an escape");
      value = value * 16 + static_cast<uint32_t>(v);
      Advance();
    }
    if (value > kMaxCodepoint) return Error("escape above U+10FFFF");
    return value;
  }

  Result<Expr> ParseLiteral() {
    Advance();  // "
    Expr literal;
    literal.kind = Expr::Kind::kLiteral;
    while (Peek() != '"') {
      if (AtEnd() || Peek() == '\n') return Error("unterminated string literal");
      Result<uint32_t> cp = ParseChar();
      if (!cp.ok()) return cp.status();
      if (*cp >= 0xD800 && *cp <= 0xDFFF) return Error("a surrogate code point cannot be matched");
      literal.bytes += EncodeUtf8(*cp);
    }
    Advance();
    return literal;
  }

  Result<Expr> ParseClass() {
    const int line = line_;
    const int column = Column();
    Advance();  // [
    bool negated = false;
    if (Peek() == '^') {
      negated = true;
      Advance();
    }
    CodepointSet ranges;
    while (Peek() != ']') {
      if (AtEnd() || Peek() == '\n') return Error("unterminated character class");
      Result<uint32_t> lo = ParseChar();
      if (!lo.ok()) return lo.status();
      uint32_t hi = *lo;
      if (Peek() == '-' && Peek(1) != ']') {
        Advance();
        Result<uint32_t> end = ParseChar();
        if (!end.ok()) return end.status();
        if (*end < *lo) return Error("character range with its end below its start");
        hi = *end;
      }
      ranges.push_back({*lo, hi});
    }
    Advance();
    Expr cls;
    cls.kind = Expr::Kind::kCharClass;
    cls.chars = negated ? Complement(Normalize(std::move(ranges))) : Normalize(std::move(ranges));
    if (cls.chars.empty()) return ErrorAt(line, column, "character class matches no character");
    return cls;
  }

  std::string_view text_;
  std::string root_;
  size_t pos_ = 0;
  int line_ = 1;
  size_t line_start_ = 0;
  GrammarAst ast_;
  std::map<std::string, int> names_;
};

}  // namespace

Result<GrammarAst> ParseGbnf(std::string_view text, const std::string& root_rule) {
  return Parser(text, root_rule).Parse();
}

}  // namespace anser::grammar
