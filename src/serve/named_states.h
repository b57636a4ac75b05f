// The named states of the state API: snapshots a client can start requests from, download and
// upload, bounded by a byte budget with the least recently used dropped first (a request for
// one dropped is then a 404). Thread-safe.
#pragma once

#include <cstdint>
#include <list>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <unordered_map>

#include "serve/snapshot.h"

namespace anser::serve {

class NamedStates {
 public:
  explicit NamedStates(int64_t budget_bytes);

  struct Named {
    SnapshotPtr snapshot;
    OriginKey origin = 0;  // the key requests starting from it cache their prefixes under
  };

  // Stores a new state under a fresh id and returns the id; "" when it is larger than the budget.
  std::string Add(SnapshotPtr snapshot);
  // Replaces (or creates) the state `id`; false when it is larger than the budget.
  bool Put(const std::string& id, SnapshotPtr snapshot);
  std::optional<Named> Get(const std::string& id);
  bool Remove(const std::string& id);

  int64_t bytes() const;
  int64_t budget() const { return budget_; }

 private:
  struct Entry {
    std::string id;
    Named named;
  };
  using EntryList = std::list<Entry>;  // most recently used first

  bool PutLocked(const std::string& id, SnapshotPtr snapshot);
  void EraseLocked(EntryList::iterator it);

  const int64_t budget_;
  mutable std::mutex mu_;
  EntryList lru_;
  std::unordered_map<std::string, EntryList::iterator> by_id_;
  int64_t bytes_ = 0;
  OriginKey next_origin_ = kServerStateOrigin + 1;
  std::mt19937_64 ids_;
};

}  // namespace anser::serve
