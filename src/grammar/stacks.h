// Parser stacks shared between positions: a frame is (return state, frame below), interned so
// equal stacks are one id; a head is a state about to read a byte with the frame below it.
#pragma once

#include <cstdint>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "grammar/nfa.h"

namespace anser::grammar {

// Below the last frame: the end of the grammar in a matcher, the unknown caller in a cache walk.
constexpr int32_t kNoFrame = -1;

struct Head {
  int32_t state = 0;
  int32_t frame = kNoFrame;
  auto operator<=>(const Head&) const = default;
};

class StackArena {
 public:
  struct Frame {
    int32_t ret = 0;
    int32_t below = kNoFrame;
  };

  // The id of frame (ret, below), created on first use.
  int32_t Push(int32_t ret, int32_t below);
  const Frame& at(int32_t id) const { return frames_[static_cast<size_t>(id)]; }
  size_t size() const { return frames_.size(); }

 private:
  std::vector<Frame> frames_;
  std::unordered_map<uint64_t, int32_t> index_;
};

// Computes where entering a state leads before the next byte. Holds scratch only.
class Expander {
 public:
  // Starts a new set of heads: entries already expanded since the last call are not repeated.
  void Reset() { seen_.clear(); }
  // Appends to `heads` every head reachable by entering `state` on top of `frame` (calls push
  // frames, rule ends pop them). Returns true if the frame under everything was popped: the
  // grammar can end here (matcher), or the walk left the rule it started in (cache walk).
  bool Enter(const Nfa& nfa, StackArena& arena, int32_t state, int32_t frame,
             std::vector<Head>* heads);

 private:
  std::unordered_set<uint64_t> seen_;
  std::vector<Head> work_;
};

// Sorts and removes duplicates.
void Canonicalize(std::vector<Head>* heads);

}  // namespace anser::grammar
