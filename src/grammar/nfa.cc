#include "grammar/nfa.h"

#include <algorithm>
#include <functional>
#include <map>
#include <string>
#include <tuple>
#include <utility>

namespace anser::grammar {
namespace {

// A rule used from several places is called rather than copied into each once its automaton
// would be larger than this.
constexpr int64_t kInlineLimit = 4096;
// Rules inlined within rules inlined within … this deep are called instead, bounding recursion.
constexpr int kMaxInlineDepth = 32;
// Automata larger than this are refused (memory grows with it, and caches with it).
constexpr int64_t kMaxStates = 4'000'000;

void CollectRefs(const Expr& e, std::vector<int>* refs) {
  if (e.kind == Expr::Kind::kRuleRef) refs->push_back(e.rule);
  for (const Expr& child : e.children) CollectRefs(child, refs);
}

}  // namespace

class NfaBuilder {
 public:
  explicit NfaBuilder(const GrammarAst& ast) : ast_(ast) {}

  Result<Nfa> Build() {
    Analyse();
    CalledRule(ast_.root);
    for (size_t k = 0; k < called_.size(); ++k) {
      const Rule& rule = ast_.rules[called_[k]];
      const int exit = Emit(rule.body, start_[k], /*inline_depth=*/0);
      eps_[exit].push_back(final_[k]);
      if (too_large_) break;
    }
    if (too_large_) {
      return Status::Error("[grammar] the grammar is too large: its automaton would exceed " +
                           std::to_string(kMaxStates) +
                           " states (lower the repetition counts or share rules)");
    }
    if (Status s = CheckRules(); !s.ok()) return s;
    return Finish();
  }

 private:
  // Which rules are recursive (in a cycle of references) and how large each would be inlined.
  void Analyse() {
    const int n = static_cast<int>(ast_.rules.size());
    refs_.resize(n);
    for (int r = 0; r < n; ++r) CollectRefs(ast_.rules[r].body, &refs_[r]);
    uses_.assign(n, 0);
    for (const auto& refs : refs_) {
      for (int r : refs) ++uses_[r];
    }
    // Tarjan's strongly connected components, iteratively: a rule is recursive when its
    // component has more than one rule or it refers to itself.
    recursive_.assign(n, false);
    std::vector<int> index(n, -1), low(n, 0), stack;
    std::vector<bool> on_stack(n, false);
    int counter = 0;
    for (int root = 0; root < n; ++root) {
      if (index[root] >= 0) continue;
      std::vector<std::pair<int, size_t>> work{{root, 0}};
      index[root] = low[root] = counter++;
      stack.push_back(root);
      on_stack[root] = true;
      while (!work.empty()) {
        auto& [v, next] = work.back();
        if (next < refs_[v].size()) {
          const int w = refs_[v][next++];
          if (index[w] < 0) {
            index[w] = low[w] = counter++;
            stack.push_back(w);
            on_stack[w] = true;
            work.emplace_back(w, 0);
          } else if (on_stack[w]) {
            low[v] = std::min(low[v], index[w]);
          }
          continue;
        }
        const int done = v;
        work.pop_back();
        if (!work.empty()) low[work.back().first] = std::min(low[work.back().first], low[done]);
        if (low[done] == index[done]) {
          std::vector<int> component;
          int w;
          do {
            w = stack.back();
            stack.pop_back();
            on_stack[w] = false;
            component.push_back(w);
          } while (w != done);
          const bool self_ref =
              std::find(refs_[done].begin(), refs_[done].end(), done) != refs_[done].end();
          if (component.size() > 1 || self_ref) {
            for (int c : component) recursive_[c] = true;
          }
        }
      }
    }
    size_.assign(n, -1);
  }

  // States the rule's body would take if inlined (recursive rules count as one call).
  int64_t InlinedSize(int rule) {
    if (recursive_[rule]) return 1;
    if (size_[rule] < 0) size_[rule] = std::min(ExprSize(ast_.rules[rule].body), kMaxStates);
    return size_[rule];
  }

  int64_t ExprSize(const Expr& e) {
    int64_t total = 0;
    switch (e.kind) {
      case Expr::Kind::kLiteral:
        return static_cast<int64_t>(e.bytes.size()) + 1;
      case Expr::Kind::kCharClass:
        return 4 * static_cast<int64_t>(e.chars.size()) + 2;
      case Expr::Kind::kRuleRef:
        return InlinedSize(e.rule);
      case Expr::Kind::kRepeat: {
        const int64_t copies = e.max > 0 ? e.max : e.min + 1;
        return std::min(ExprSize(e.children[0]) * copies + 2, kMaxStates);
      }
      case Expr::Kind::kSequence:
      case Expr::Kind::kAlternatives:
        for (const Expr& child : e.children)
          total = std::min(total + ExprSize(child) + 1, kMaxStates);
        return total + 1;
    }
    return total;
  }

  bool Inlined(int rule, int inline_depth) {
    if (recursive_[rule] || rule == ast_.root || inline_depth >= kMaxInlineDepth) return false;
    return uses_[rule] <= 1 || InlinedSize(rule) <= kInlineLimit;
  }

  // The index of `rule` as a called rule, created (and queued for emission) on first use.
  int CalledRule(int rule) {
    const auto [it, inserted] = called_index_.emplace(rule, static_cast<int>(called_.size()));
    if (inserted) {
      called_.push_back(rule);
      start_.push_back(NewState());
      final_.push_back(NewState());
    }
    return it->second;
  }

  int NewState() {
    if (static_cast<int64_t>(bytes_.size()) >= kMaxStates) {
      too_large_ = true;
      return 0;
    }
    bytes_.emplace_back();
    eps_.emplace_back();
    calls_.emplace_back();
    return static_cast<int>(bytes_.size()) - 1;
  }

  // Adds the automaton of `e` starting at `entry`; returns the state where it ends.
  int Emit(const Expr& e, int entry, int inline_depth) {
    if (too_large_) return entry;
    switch (e.kind) {
      case Expr::Kind::kLiteral: {
        int at = entry;
        for (const char c : e.bytes) {
          const int next = NewState();
          const auto b = static_cast<uint8_t>(c);
          bytes_[at].push_back({b, b, next});
          at = next;
        }
        return at;
      }
      case Expr::Kind::kCharClass: {
        const int exit = NewState();
        // Sequences sharing leading byte ranges share states, so one lead byte opens one path.
        std::map<std::tuple<int, int, int>, int> shared;
        for (const std::vector<ByteRange>& sequence : Utf8Sequences(e.chars)) {
          int at = entry;
          for (size_t k = 0; k < sequence.size(); ++k) {
            const ByteRange r = sequence[k];
            if (k + 1 == sequence.size()) {
              bytes_[at].push_back({r.lo, r.hi, exit});
              break;
            }
            const auto key = std::make_tuple(at, int{r.lo}, int{r.hi});
            auto it = shared.find(key);
            if (it == shared.end()) {
              const int next = NewState();
              bytes_[at].push_back({r.lo, r.hi, next});
              it = shared.emplace(key, next).first;
            }
            at = it->second;
          }
        }
        return exit;
      }
      case Expr::Kind::kSequence: {
        int at = entry;
        for (const Expr& child : e.children) at = Emit(child, at, inline_depth);
        return at;
      }
      case Expr::Kind::kAlternatives: {
        const int exit = NewState();
        for (const Expr& child : e.children) {
          const int start = NewState();
          eps_[entry].push_back(start);
          eps_[Emit(child, start, inline_depth)].push_back(exit);
        }
        return exit;
      }
      case Expr::Kind::kRuleRef: {
        if (Inlined(e.rule, inline_depth)) {
          return Emit(ast_.rules[e.rule].body, entry, inline_depth + 1);
        }
        const int callee = CalledRule(e.rule);
        const int ret = NewState();
        calls_[entry].push_back({callee, ret});
        return ret;
      }
      case Expr::Kind::kRepeat:
        return EmitRepeat(e, entry, inline_depth);
    }
    return entry;
  }

  int EmitRepeat(const Expr& e, int entry, int inline_depth) {
    const Expr& child = e.children[0];
    int at = entry;
    for (int k = 0; k < e.min && !too_large_; ++k) {
      const int start = NewState();
      eps_[at].push_back(start);
      at = Emit(child, start, inline_depth);
    }
    const int exit = NewState();
    eps_[at].push_back(exit);
    if (e.max < 0) {
      // A loop through a state of its own, so nothing that follows can attach to the loop.
      const int loop = NewState();
      eps_[at].push_back(loop);
      eps_[Emit(child, loop, inline_depth)].push_back(loop);
      eps_[loop].push_back(exit);
      return exit;
    }
    for (int k = e.min; k < e.max && !too_large_; ++k) {
      const int start = NewState();
      eps_[at].push_back(start);
      at = Emit(child, start, inline_depth);
      eps_[at].push_back(exit);
    }
    return exit;
  }

  // Walks the states reachable from `from` without reading a byte inside its rule, stepping
  // over calls to rules in `skippable` (to their return state). Calls `visit(state)` once each.
  void WalkWithoutBytes(int from, const std::vector<bool>& skippable,
                        const std::function<void(int)>& visit) {
    ++stamp_;
    std::vector<int> work{from};
    seen_[from] = stamp_;
    while (!work.empty()) {
      const int s = work.back();
      work.pop_back();
      visit(s);
      auto push = [&](int t) {
        if (seen_[t] != stamp_) {
          seen_[t] = stamp_;
          work.push_back(t);
        }
      };
      for (int t : eps_[s]) push(t);
      for (const CallEdge& c : calls_[s]) {
        if (skippable[c.rule]) push(c.ret);
      }
    }
  }

  // Nullable rules, productive rules (able to finish at all) and left recursion.
  Status CheckRules() {
    const int n = static_cast<int>(called_.size());
    seen_.assign(bytes_.size(), 0);
    std::vector<bool> nullable(n, false);
    for (bool changed = true; changed;) {
      changed = false;
      for (int r = 0; r < n; ++r) {
        if (nullable[r]) continue;
        bool reaches = false;
        WalkWithoutBytes(start_[r], nullable, [&](int s) { reaches |= s == final_[r]; });
        if (reaches) nullable[r] = changed = true;
      }
    }
    std::vector<bool> productive(n, false);
    for (bool changed = true; changed;) {
      changed = false;
      for (int r = 0; r < n; ++r) {
        if (productive[r] || !ReachesFinal(r, productive)) continue;
        productive[r] = changed = true;
      }
    }
    // Named: the unproductive rule found last, as the root (first) is usually only its victim.
    for (int r = n - 1; r >= 0; --r) {
      if (!productive[r]) {
        const Rule& rule = ast_.rules[called_[r]];
        return Status::Error("[grammar] line " + std::to_string(rule.line) + ", column " +
                             std::to_string(rule.column) + ": rule '" + rule.name +
                             "' can never finish: every alternative refers back to it (add an "
                             "alternative without the recursion)");
      }
    }
    // Left recursion: rule r may call rule q before reading a byte.
    std::vector<std::vector<int>> left(n);
    for (int r = 0; r < n; ++r) {
      WalkWithoutBytes(start_[r], nullable, [&](int s) {
        for (const CallEdge& c : calls_[s]) left[r].push_back(c.rule);
      });
    }
    std::vector<int> color(n, 0);  // 0 unvisited, 1 on the path, 2 done
    std::function<int(int)> find_cycle = [&](int r) -> int {
      color[r] = 1;
      for (int q : left[r]) {
        if (color[q] == 1) return q;
        if (color[q] == 0) {
          if (const int hit = find_cycle(q); hit >= 0) return hit;
        }
      }
      color[r] = 2;
      return -1;
    };
    for (int r = 0; r < n; ++r) {
      if (color[r] != 0) continue;
      if (const int hit = find_cycle(r); hit >= 0) {
        const Rule& rule = ast_.rules[called_[hit]];
        return Status::Error("[grammar] line " + std::to_string(rule.line) + ", column " +
                             std::to_string(rule.column) + ": rule '" + rule.name +
                             "' is left-recursive: it can reach itself before reading a "
                             "character (rewrite `a ::= a x | y` as `a ::= y x*`)");
      }
    }
    return Status::Ok();
  }

  // Whether rule r can reach its end reading bytes and calling only `productive` rules.
  bool ReachesFinal(int r, const std::vector<bool>& productive) {
    ++stamp_;
    std::vector<int> work{start_[r]};
    seen_[start_[r]] = stamp_;
    while (!work.empty()) {
      const int s = work.back();
      work.pop_back();
      if (s == final_[r]) return true;
      auto push = [&](int t) {
        if (seen_[t] != stamp_) {
          seen_[t] = stamp_;
          work.push_back(t);
        }
      };
      for (int t : eps_[s]) push(t);
      for (const ByteEdge& b : bytes_[s]) push(b.target);
      for (const CallEdge& c : calls_[s]) {
        if (productive[c.rule]) push(c.ret);
      }
    }
    return false;
  }

  // Flattens the edges and computes every state's closure.
  Nfa Finish() {
    Nfa nfa;
    const int n = static_cast<int>(bytes_.size());
    nfa.root_rule_ = 0;  // the root was the first rule called
    nfa.rule_start_ = start_;
    std::vector<bool> is_final(n, false);
    for (int f : final_) is_final[f] = true;
    nfa.edge_begin_.reserve(n + 1);
    for (int s = 0; s < n; ++s) {
      nfa.edge_begin_.push_back(static_cast<uint32_t>(nfa.edges_.size()));
      nfa.edges_.insert(nfa.edges_.end(), bytes_[s].begin(), bytes_[s].end());
    }
    nfa.edge_begin_.push_back(static_cast<uint32_t>(nfa.edges_.size()));

    std::vector<bool> nothing(called_.size(), false);
    seen_.assign(n, 0);
    nfa.ends_rule_.assign(n, 0);
    std::vector<CallEdge> calls;
    for (int s = 0; s < n; ++s) {
      nfa.head_begin_.push_back(static_cast<uint32_t>(nfa.heads_.size()));
      nfa.call_begin_.push_back(static_cast<uint32_t>(nfa.calls_.size()));
      const size_t first_head = nfa.heads_.size();
      calls.clear();
      WalkWithoutBytes(s, nothing, [&](int t) {
        if (!bytes_[t].empty()) nfa.heads_.push_back(t);
        calls.insert(calls.end(), calls_[t].begin(), calls_[t].end());
        if (is_final[t]) nfa.ends_rule_[s] = 1;
      });
      std::sort(nfa.heads_.begin() + static_cast<std::ptrdiff_t>(first_head), nfa.heads_.end());
      std::sort(calls.begin(), calls.end(), [](const CallEdge& a, const CallEdge& b) {
        return std::tie(a.rule, a.ret) < std::tie(b.rule, b.ret);
      });
      nfa.calls_.insert(nfa.calls_.end(), calls.begin(), calls.end());
    }
    nfa.head_begin_.push_back(static_cast<uint32_t>(nfa.heads_.size()));
    nfa.call_begin_.push_back(static_cast<uint32_t>(nfa.calls_.size()));
    return nfa;
  }

  const GrammarAst& ast_;
  std::vector<std::vector<int>> refs_;
  std::vector<int> uses_;
  std::vector<bool> recursive_;
  std::vector<int64_t> size_;

  std::map<int, int> called_index_;  // AST rule → called rule
  std::vector<int> called_;          // called rule → AST rule
  std::vector<int> start_, final_;   // per called rule
  std::vector<std::vector<ByteEdge>> bytes_;
  std::vector<std::vector<int>> eps_;
  std::vector<std::vector<CallEdge>> calls_;
  std::vector<uint32_t> seen_;
  uint32_t stamp_ = 0;
  bool too_large_ = false;
};

Result<Nfa> BuildNfa(const GrammarAst& ast) { return NfaBuilder(ast).Build(); }

}  // namespace anser::grammar
