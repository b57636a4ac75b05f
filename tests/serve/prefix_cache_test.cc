#include "serve/prefix_cache.h"

#include <gtest/gtest.h>

#include "serve/named_states.h"

namespace anser::serve {
namespace {

ModelConfig Tiny() {
  ModelConfig c;
  c.n_layer = 1;
  c.n_embd = 8;
  c.n_head = 1;
  c.head_size = 8;
  c.n_vocab = 4;
  return c;
}

// A snapshot whose first state value tells which it is.
SnapshotPtr Marked(float mark) {
  auto s = std::make_shared<Snapshot>(Snapshot{State(Tiny()), std::vector<float>(4, mark), 0});
  s->state.wkv(0)[0] = mark;
  return s;
}

TEST(PrefixCache, FindsTheLongestCachedPrefixOfTheSameOrigin) {
  PrefixCache cache(1 << 20);
  cache.Insert(kZeroOrigin, std::vector<int>{1, 2}, Marked(12));
  cache.Insert(kZeroOrigin, std::vector<int>{1, 2, 3, 4}, Marked(1234));
  cache.Insert(kServerStateOrigin, std::vector<int>{1, 2, 3}, Marked(123));

  PrefixCache::Hit hit = cache.Lookup(kZeroOrigin, std::vector<int>{1, 2, 3, 4, 5});
  ASSERT_TRUE(hit.snapshot);
  EXPECT_EQ(hit.length, 4);
  EXPECT_EQ(hit.snapshot->state.wkv(0)[0], 1234);
  hit = cache.Lookup(kZeroOrigin, std::vector<int>{1, 2, 3});
  EXPECT_EQ(hit.length, 2);
  EXPECT_EQ(hit.snapshot->state.wkv(0)[0], 12);
  hit = cache.Lookup(kZeroOrigin, std::vector<int>{1, 2, 3, 4});  // a whole sequence: its logits are kept
  EXPECT_EQ(hit.length, 4);
  EXPECT_EQ(hit.snapshot->logits[0], 1234);
  hit = cache.Lookup(kServerStateOrigin, std::vector<int>{1, 2, 3, 4});
  EXPECT_EQ(hit.length, 3);
  EXPECT_FALSE(cache.Lookup(kZeroOrigin, std::vector<int>{2, 1}).snapshot);
  EXPECT_FALSE(cache.Lookup(7, std::vector<int>{1, 2}).snapshot);
  EXPECT_EQ(cache.hits(), 4u);
  EXPECT_EQ(cache.misses(), 2u);
}

TEST(PrefixCache, EvictsTheLeastRecentlyUsedToStayWithinBudget) {
  const int64_t entry = Marked(0)->bytes() + 2 * static_cast<int64_t>(sizeof(int)) + 64;
  PrefixCache cache(3 * entry);
  cache.Insert(kZeroOrigin, std::vector<int>{1, 1}, Marked(1));
  cache.Insert(kZeroOrigin, std::vector<int>{2, 2}, Marked(2));
  cache.Insert(kZeroOrigin, std::vector<int>{3, 3}, Marked(3));
  EXPECT_EQ(cache.bytes(), 3 * entry);
  ASSERT_TRUE(cache.Lookup(kZeroOrigin, std::vector<int>{1, 1}).snapshot);  // 1 is now the most recent
  cache.Insert(kZeroOrigin, std::vector<int>{4, 4}, Marked(4));
  EXPECT_EQ(cache.evictions(), 1u);
  EXPECT_EQ(cache.entries(), 3);
  EXPECT_LE(cache.bytes(), 3 * entry);
  EXPECT_FALSE(cache.Lookup(kZeroOrigin, std::vector<int>{2, 2}).snapshot);
  EXPECT_TRUE(cache.Lookup(kZeroOrigin, std::vector<int>{1, 1}).snapshot);
  EXPECT_TRUE(cache.Lookup(kZeroOrigin, std::vector<int>{4, 4}).snapshot);
  // Replacing an entry frees the old one; an entry over the whole budget is not kept.
  cache.Insert(kZeroOrigin, std::vector<int>{4, 4}, Marked(44));
  EXPECT_EQ(cache.Lookup(kZeroOrigin, std::vector<int>{4, 4}).snapshot->state.wkv(0)[0], 44);
  EXPECT_EQ(cache.entries(), 3);
  PrefixCache small(entry - 1);
  small.Insert(kZeroOrigin, std::vector<int>{1, 1}, Marked(1));
  EXPECT_EQ(small.entries(), 0);
  EXPECT_EQ(small.bytes(), 0);
}

TEST(NamedStates, AddGetPutRemoveWithinBudget) {
  const int64_t size = Marked(0)->bytes();
  NamedStates states(2 * size);
  const std::string a = states.Add(Marked(1));
  const std::string b = states.Add(Marked(2));
  ASSERT_FALSE(a.empty());
  ASSERT_NE(a, b);
  const auto got = states.Get(a);
  ASSERT_TRUE(got);
  EXPECT_EQ(got->snapshot->state.wkv(0)[0], 1);
  EXPECT_GT(got->origin, kServerStateOrigin);
  // a was used last, so b is evicted for c.
  const std::string c = states.Add(Marked(3));
  EXPECT_FALSE(states.Get(b));
  EXPECT_TRUE(states.Get(a));
  EXPECT_EQ(states.bytes(), 2 * size);
  // A new content under an old name gets a new origin: prefixes cached from the old one are never reused.
  ASSERT_TRUE(states.Put(a, Marked(5)));
  EXPECT_NE(states.Get(a)->origin, got->origin);
  EXPECT_TRUE(states.Remove(c));
  EXPECT_FALSE(states.Remove(c));
  EXPECT_FALSE(states.Get(c));
  NamedStates tiny(size - 1);
  EXPECT_EQ(tiny.Add(Marked(1)), "");
  EXPECT_FALSE(tiny.Put("x", Marked(1)));
}

}  // namespace
}  // namespace anser::serve
