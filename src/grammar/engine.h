// The compiled grammar's machinery: the automaton, stepping a set of heads by bytes, and the
// token masks, computed from caches filled on first use.
//
// Masks. For each automaton state that reads a byte, a walk of the vocabulary trie classifies
// every token as it would be read from that state alone, not knowing the frames below it:
// accepted (some path reads all of it), rejected (every path dies), or uncertain (a path ends the
// state's rule before the token ends: what follows depends on the caller). The walk steps a
// lazily built DFA over "local" head sets, so a trie node costs one table lookup once warm.
// Uncertain tokens are resolved once per (state, return state of the caller's frame) pair; the
// few that also end the caller's rule are checked at run time against the real stack.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <shared_mutex>
#include <span>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "anser/grammar.h"
#include "grammar/nfa.h"
#include "grammar/stacks.h"
#include "grammar/vocabulary.h"

namespace anser::grammar {

// One sequence's position: the heads, their frames, and whether the grammar may end here.
class ParseState {
 public:
  std::vector<Head> heads;
  StackArena arena;
  bool can_end = false;
  // Scratch, kept to avoid allocating per step.
  Expander expander;
  std::vector<Head> next_heads;
  std::vector<Head> saved_heads;
  std::vector<uint64_t> bits;
};

class Engine {
 public:
  Engine(Nfa nfa, const Vocabulary& vocabulary);
  ~Engine();

  const Nfa& nfa() const { return nfa_; }
  const Vocabulary& vocabulary() const { return vocabulary_; }

  // The position before any byte.
  ParseState Start() const;
  // Advances `state` by `bytes`; returns false (leaving `state` dead) when they do not fit.
  bool Advance(ParseState& state, std::string_view bytes) const;
  // The tokens allowed after `state` (token 0 iff it can end). May add frames to its arena.
  void FillMask(ParseState& state, TokenMask* mask) const;

 private:
  // Tokens whose verdict depends on the frames below, with the byte offsets at which a path
  // left the rule (the rest of the token is read by the caller from there).
  struct Uncertain {
    int32_t token = 0;
    uint32_t offsets_begin = 0;  // into offsets
    uint32_t offsets_end = 0;
  };
  struct UncertainSet {
    std::vector<Uncertain> tokens;
    std::vector<uint16_t> offsets;
  };
  // A state's verdicts. Accepted tokens are kept in whichever form is smallest.
  struct StateCache {
    enum class Form { kAcceptedList, kRejectedList, kBitset } form = Form::kAcceptedList;
    std::vector<int32_t> ids;    // accepted or rejected ids (sorted)
    std::vector<uint64_t> bits;  // kBitset: accepted
    UncertainSet uncertain;
  };
  // A state's uncertain tokens read on into the caller's rule from its return state.
  struct Refined {
    std::vector<int32_t> accepted;
    UncertainSet uncertain;  // offsets at which the caller's rule ended too
  };

  const StateCache& CacheFor(int32_t state) const;
  const Refined& RefinedFor(int32_t state, int32_t ret) const;
  std::unique_ptr<StateCache> ComputeCache(int32_t state) const;
  std::unique_ptr<Refined> ComputeRefined(const StateCache& base, int32_t ret) const;
  // The local DFA (call with mu_ held exclusively).
  int32_t InternConfig(std::vector<Head>& heads) const;
  // Next config after `byte`, and whether a path left the walk's starting rule on that byte.
  std::pair<int32_t, bool> StepConfig(int32_t config, uint8_t byte) const;
  // Whether `bytes` can be read after leaving frame `frame` of `state` (run-time check).
  bool FitsAfterPop(ParseState& state, int32_t frame, std::string_view bytes) const;

  Nfa nfa_;
  const Vocabulary& vocabulary_;

  mutable std::shared_mutex mu_;
  std::unique_ptr<std::atomic<const StateCache*>[]> caches_;  // per state, null until computed
  mutable std::vector<std::unique_ptr<StateCache>> owned_caches_;
  mutable std::unordered_map<uint64_t, std::unique_ptr<Refined>> refined_;
  mutable StackArena local_arena_;
  mutable Expander local_expander_;
  mutable std::vector<std::vector<Head>> configs_;
  mutable std::map<std::vector<Head>, int32_t> config_ids_;
  mutable std::vector<int32_t> rows_;  // 256 per config: (next << 1) | left_rule, or -1
  mutable std::vector<Head> scratch_heads_;
};

}  // namespace anser::grammar
