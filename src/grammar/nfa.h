// A grammar as a pushdown automaton: each rule an epsilon-free NFA over byte ranges, with call
// edges into other rules. Rules outside recursion are inlined into their callers, so frames are
// pushed only where the grammar recurses (or where a large rule is shared by many callers).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "anser/status.h"
#include "grammar/gbnf_ast.h"

namespace anser::grammar {

struct ByteEdge {
  uint8_t lo = 0;
  uint8_t hi = 0;
  int32_t target = 0;
};

// Enter rule `rule`; when it ends, continue at state `ret`.
struct CallEdge {
  int32_t rule = 0;
  int32_t ret = 0;
};

class Nfa {
 public:
  // What entering a state leads to without reading a byte, within its rule: the states that
  // read a byte next ("heads"), the calls to make, and whether the rule may end here.
  struct Closure {
    std::span<const int32_t> heads;
    std::span<const CallEdge> calls;
    bool ends_rule = false;
  };

  int state_count() const { return static_cast<int>(edge_begin_.size()) - 1; }
  int root_rule() const { return root_rule_; }
  int rule_start(int rule) const { return rule_start_[rule]; }
  std::span<const ByteEdge> Edges(int state) const {
    return {edges_.data() + edge_begin_[state], edges_.data() + edge_begin_[state + 1]};
  }
  Closure ClosureOf(int state) const {
    return {{heads_.data() + head_begin_[state], heads_.data() + head_begin_[state + 1]},
            {calls_.data() + call_begin_[state], calls_.data() + call_begin_[state + 1]},
            ends_rule_[state] != 0};
  }

 private:
  friend class NfaBuilder;
  int root_rule_ = 0;
  std::vector<int32_t> rule_start_;
  std::vector<uint32_t> edge_begin_;  // state_count + 1
  std::vector<ByteEdge> edges_;
  std::vector<uint32_t> head_begin_;  // state_count + 1
  std::vector<int32_t> heads_;
  std::vector<uint32_t> call_begin_;  // state_count + 1
  std::vector<CallEdge> calls_;
  std::vector<uint8_t> ends_rule_;
};

// Builds the automaton of `ast`. Errors: left recursion (a rule that can reach itself before
// reading a byte, which a pushdown parser cannot run), a rule that can never finish, or a grammar
// too large.
Result<Nfa> BuildNfa(const GrammarAst& ast);

}  // namespace anser::grammar
