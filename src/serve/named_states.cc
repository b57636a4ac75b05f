#include "serve/named_states.h"

#include <cstdio>

namespace anser::serve {

NamedStates::NamedStates(int64_t budget_bytes) : budget_(budget_bytes), ids_(std::random_device{}()) {}

std::string NamedStates::Add(SnapshotPtr snapshot) {
  std::lock_guard lock(mu_);
  std::string id;
  do {
    char buf[40];
    std::snprintf(buf, sizeof(buf), "state-%016llx", static_cast<unsigned long long>(ids_()));
    id = buf;
  } while (by_id_.contains(id));
  return PutLocked(id, std::move(snapshot)) ? id : "";
}

bool NamedStates::Put(const std::string& id, SnapshotPtr snapshot) {
  std::lock_guard lock(mu_);
  return PutLocked(id, std::move(snapshot));
}

bool NamedStates::PutLocked(const std::string& id, SnapshotPtr snapshot) {
  if (const auto it = by_id_.find(id); it != by_id_.end()) EraseLocked(it->second);
  const int64_t size = snapshot->bytes();
  if (size > budget_) return false;
  while (bytes_ + size > budget_) EraseLocked(std::prev(lru_.end()));
  lru_.push_front({id, {std::move(snapshot), next_origin_++}});
  by_id_[id] = lru_.begin();
  bytes_ += size;
  return true;
}

std::optional<NamedStates::Named> NamedStates::Get(const std::string& id) {
  std::lock_guard lock(mu_);
  const auto it = by_id_.find(id);
  if (it == by_id_.end()) return std::nullopt;
  lru_.splice(lru_.begin(), lru_, it->second);
  return it->second->named;
}

bool NamedStates::Remove(const std::string& id) {
  std::lock_guard lock(mu_);
  const auto it = by_id_.find(id);
  if (it == by_id_.end()) return false;
  EraseLocked(it->second);
  return true;
}

int64_t NamedStates::bytes() const {
  std::lock_guard lock(mu_);
  return bytes_;
}

void NamedStates::EraseLocked(EntryList::iterator it) {
  bytes_ -= it->named.snapshot->bytes();
  by_id_.erase(it->id);
  lru_.erase(it);
}

}  // namespace anser::serve
