#include "grammar/stacks.h"

#include <algorithm>

namespace anser::grammar {
namespace {

uint64_t Key(int32_t a, int32_t b) {
  return (static_cast<uint64_t>(static_cast<uint32_t>(a)) << 32) | static_cast<uint32_t>(b);
}

}  // namespace

int32_t StackArena::Push(int32_t ret, int32_t below) {
  const auto [it, inserted] = index_.emplace(Key(ret, below), static_cast<int32_t>(frames_.size()));
  if (inserted) frames_.push_back({ret, below});
  return it->second;
}

bool Expander::Enter(const Nfa& nfa, StackArena& arena, int32_t state, int32_t frame,
                     std::vector<Head>* heads) {
  bool popped_bottom = false;
  work_.clear();
  work_.push_back({state, frame});
  while (!work_.empty()) {
    const Head at = work_.back();
    work_.pop_back();
    if (!seen_.insert(Key(at.state, at.frame)).second) continue;
    const Nfa::Closure closure = nfa.ClosureOf(at.state);
    for (const int32_t head : closure.heads) heads->push_back({head, at.frame});
    for (const CallEdge& call : closure.calls) {
      work_.push_back({nfa.rule_start(call.rule), arena.Push(call.ret, at.frame)});
    }
    if (closure.ends_rule) {
      if (at.frame == kNoFrame) {
        popped_bottom = true;
      } else {
        const StackArena::Frame& below = arena.at(at.frame);
        work_.push_back({below.ret, below.below});
      }
    }
  }
  return popped_bottom;
}

void Canonicalize(std::vector<Head>* heads) {
  std::sort(heads->begin(), heads->end());
  heads->erase(std::unique(heads->begin(), heads->end()), heads->end());
}

}  // namespace anser::grammar
