// The prefix state cache: snapshots keyed by (origin, the exact token ids fed from it). A request
// whose tokens extend a cached sequence starts from that snapshot and feeds only the rest; a
// request whose tokens equal one needs no model step at all (the snapshot keeps the logits).
// Least recently used entries go first when the byte budget is exceeded; an entry larger than
// the whole budget is not kept. Not thread-safe: the engine thread alone uses it (the counters
// may be read from any thread).
#pragma once

#include <atomic>
#include <cstdint>
#include <list>
#include <span>
#include <unordered_map>
#include <vector>

#include "serve/snapshot.h"

namespace anser::serve {

class PrefixCache {
 public:
  explicit PrefixCache(int64_t budget_bytes) : budget_(budget_bytes) {}

  struct Hit {
    SnapshotPtr snapshot;  // null on a miss
    int64_t length = 0;    // tokens of the request it covers
  };
  // The longest cached prefix of `tokens` fed from `origin` (the whole sequence included).
  Hit Lookup(OriginKey origin, std::span<const int> tokens);
  // Keeps `snapshot` as the state after `tokens`, replacing an entry of the same key.
  void Insert(OriginKey origin, std::span<const int> tokens, SnapshotPtr snapshot);

  int64_t bytes() const { return bytes_.load(); }
  int64_t entries() const { return static_cast<int64_t>(lru_.size()); }
  uint64_t hits() const { return hits_.load(); }
  uint64_t misses() const { return misses_.load(); }
  uint64_t evictions() const { return evictions_.load(); }

 private:
  struct Entry {
    OriginKey origin;
    std::vector<int> tokens;
    uint64_t hash;
    SnapshotPtr snapshot;
    int64_t bytes;
  };
  using EntryList = std::list<Entry>;  // most recently used first

  void Evict(EntryList::iterator it);

  int64_t budget_;
  EntryList lru_;
  std::unordered_multimap<uint64_t, EntryList::iterator> by_hash_;
  std::atomic<int64_t> bytes_{0};
  std::atomic<uint64_t> hits_{0}, misses_{0}, evictions_{0};
};

}  // namespace anser::serve
