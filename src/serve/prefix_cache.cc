#include "serve/prefix_cache.h"

#include <algorithm>

namespace anser::serve {
namespace {

// FNV-1a over the origin and then each token: a prefix's hash extends to the next token's in
// one step, so a lookup hashes every prefix of the request in a single pass.
constexpr uint64_t kFnvPrime = 1099511628211ull;
uint64_t Start(OriginKey origin) { return (14695981039346656037ull ^ origin) * kFnvPrime; }
uint64_t Extend(uint64_t hash, int token) { return (hash ^ static_cast<uint32_t>(token)) * kFnvPrime; }

uint64_t HashOf(OriginKey origin, std::span<const int> tokens) {
  uint64_t h = Start(origin);
  for (int t : tokens) h = Extend(h, t);
  return h;
}

}  // namespace

PrefixCache::Hit PrefixCache::Lookup(OriginKey origin, std::span<const int> tokens) {
  Hit best;
  EntryList::iterator best_it = lru_.end();
  uint64_t h = Start(origin);
  for (size_t length = 1; length <= tokens.size(); ++length) {
    h = Extend(h, tokens[length - 1]);
    const auto [begin, end] = by_hash_.equal_range(h);
    for (auto it = begin; it != end; ++it) {
      const Entry& e = *it->second;
      if (e.origin == origin && e.tokens.size() == length &&
          std::equal(e.tokens.begin(), e.tokens.end(), tokens.begin())) {
        best = {e.snapshot, static_cast<int64_t>(length)};
        best_it = it->second;
      }
    }
  }
  if (best.snapshot) {
    lru_.splice(lru_.begin(), lru_, best_it);
    hits_.fetch_add(1);
  } else {
    misses_.fetch_add(1);
  }
  return best;
}

void PrefixCache::Insert(OriginKey origin, std::span<const int> tokens, SnapshotPtr snapshot) {
  const uint64_t h = HashOf(origin, tokens);
  const auto [begin, end] = by_hash_.equal_range(h);
  for (auto it = begin; it != end; ++it) {
    const Entry& e = *it->second;
    if (e.origin == origin && std::equal(e.tokens.begin(), e.tokens.end(), tokens.begin(), tokens.end())) {
      Evict(it->second);
      break;
    }
  }
  const int64_t bytes = snapshot->bytes() + static_cast<int64_t>(tokens.size() * sizeof(int)) + 64;
  if (bytes > budget_) return;
  while (bytes_.load() + bytes > budget_) {
    Evict(std::prev(lru_.end()));
    evictions_.fetch_add(1);
  }
  lru_.push_front({origin, std::vector<int>(tokens.begin(), tokens.end()), h, std::move(snapshot), bytes});
  by_hash_.emplace(h, lru_.begin());
  bytes_.fetch_add(bytes);
}

void PrefixCache::Evict(EntryList::iterator it) {
  const auto [begin, end] = by_hash_.equal_range(it->hash);
  for (auto h = begin; h != end; ++h) {
    if (h->second == it) {
      by_hash_.erase(h);
      break;
    }
  }
  bytes_.fetch_sub(it->bytes);
  lru_.erase(it);
}

}  // namespace anser::serve
