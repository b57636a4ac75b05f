#include "core/thread_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

namespace anser {
namespace {

// Counts visits per index; every index of [0, n) must be visited exactly once.
void ExpectEachOnce(ThreadPool& pool, int64_t n, int64_t chunk) {
  std::vector<std::atomic<int>> visits(static_cast<size_t>(n));
  pool.ParallelFor(n, chunk, [&](int64_t begin, int64_t end) {
    EXPECT_LE(end - begin, std::max<int64_t>(chunk, 1));
    for (int64_t i = begin; i < end; ++i) visits[static_cast<size_t>(i)].fetch_add(1);
  });
  for (int64_t i = 0; i < n; ++i) {
    ASSERT_EQ(visits[static_cast<size_t>(i)].load(), 1)
        << "n " << n << " chunk " << chunk << " i " << i;
  }
}

TEST(ThreadPoolTest, EveryIndexExactlyOnce) {
  for (int threads : {1, 2, 3, 8}) {
    ThreadPool pool(threads);
    EXPECT_EQ(pool.threads(), threads);
    for (int64_t n : {0, 1, 2, 7, 100, 1000, 10007}) {
      for (int64_t chunk : {0, 1, 3, 64, 5000}) ExpectEachOnce(pool, n, chunk);
    }
  }
}

TEST(ThreadPoolTest, ManyLoopsInARow) {
  ThreadPool pool(2);
  for (int rep = 0; rep < 1000; ++rep) ExpectEachOnce(pool, 37, 2);
}

TEST(ThreadPoolTest, ResizeKeepsWorking) {
  ThreadPool pool(2);
  for (int threads : {4, 1, 3, 3, 2}) {
    pool.Resize(threads);
    EXPECT_EQ(pool.threads(), threads);
    ExpectEachOnce(pool, 999, 7);
  }
}

// A loop started from inside a loop body runs inline instead of waiting on itself.
TEST(ThreadPoolTest, NestedLoopsRunInline) {
  ThreadPool pool(3);
  std::atomic<int64_t> total{0};
  pool.ParallelFor(8, 1, [&](int64_t, int64_t) {
    pool.ParallelFor(10, 3, [&](int64_t begin, int64_t end) { total += end - begin; });
  });
  EXPECT_EQ(total.load(), 80);
}

TEST(ThreadPoolTest, ConcurrentCallersAllComplete) {
  ThreadPool pool(2);
  std::vector<std::thread> callers;
  for (int c = 0; c < 3; ++c) {
    callers.emplace_back([&pool] {
      for (int rep = 0; rep < 200; ++rep) ExpectEachOnce(pool, 257, 5);
    });
  }
  for (std::thread& t : callers) t.join();
}

}  // namespace
}  // namespace anser
