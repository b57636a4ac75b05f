// The parsed form of a grammar: named rules whose bodies are expressions over byte strings,
// character classes and references to other rules.
#pragma once

#include <string>
#include <vector>

#include "grammar/codepoints.h"

namespace anser::grammar {

struct Expr {
  enum class Kind {
    kSequence,      // children in order (empty: the empty string)
    kAlternatives,  // one of the children
    kLiteral,       // `bytes` exactly
    kCharClass,     // one character of `chars` (a scalar value, matched as its UTF-8 bytes)
    kRuleRef,       // the rule numbered `rule`
    kRepeat,        // children[0] between `min` and `max` times (max < 0: unbounded)
  };
  Kind kind = Kind::kSequence;
  std::vector<Expr> children;
  std::string bytes;
  CodepointSet chars;
  int rule = -1;
  int min = 0;
  int max = -1;
  int line = 0;  // where it starts in the source, for errors
  int column = 0;
};

struct Rule {
  std::string name;
  Expr body;
  bool defined = false;  // false: only referenced so far
  int line = 0;
  int column = 0;
};

struct GrammarAst {
  std::vector<Rule> rules;
  int root = -1;
};

}  // namespace anser::grammar
