// A recurrent state frozen at a point of a sequence, with the logits of that position: what the
// prefix cache and the named states keep. The state summarizes everything fed, so continuing
// from a snapshot is continuing the sequence.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "anser/model.h"

namespace anser::serve {

struct Snapshot {
  State state;
  std::vector<float> logits;  // (n_vocab) after the last token fed; empty when unknown (an uploaded state)
  int64_t tokens = 0;         // tokens fed since the origin's start (for reporting)

  int64_t bytes() const { return state.bytes() + static_cast<int64_t>(logits.size() * sizeof(float)); }
};

using SnapshotPtr = std::shared_ptr<const Snapshot>;

// Which initial state a sequence of tokens was fed from: the zero state, the server's --state
// file, or one named state's content. Each content a named state takes gets a key of its own,
// so cached prefixes of replaced or deleted states are never found again.
using OriginKey = uint64_t;
inline constexpr OriginKey kZeroOrigin = 0;
inline constexpr OriginKey kServerStateOrigin = 1;

}  // namespace anser::serve
