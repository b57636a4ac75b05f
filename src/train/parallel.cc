#include "train/parallel.h"

#include <algorithm>

#include "core/thread_pool.h"

namespace anser {
namespace {

// Waking a pooled worker costs a few microseconds: below ~64K multiply-adds a part, it does not
// pay.
constexpr int64_t kMinCostPerPart = int64_t{1} << 16;

}  // namespace

void ParallelFor(int64_t n, int threads, int64_t cost_per_item,
                 const std::function<void(int64_t, int64_t)>& fn) {
  if (n <= 0) return;
  ThreadPool& pool = KernelPool();
  const int64_t by_cost =
      std::max<int64_t>(1, n * std::max<int64_t>(cost_per_item, 1) / kMinCostPerPart);
  const int64_t parts = std::min<int64_t>({static_cast<int64_t>(std::max(threads, 1)),
                                           static_cast<int64_t>(pool.threads()), n, by_cost});
  if (parts <= 1) {
    fn(0, n);
    return;
  }
  // One chunk a thread: the ranges are contiguous, as the callers' output-row splits expect.
  pool.ParallelFor(n, (n + parts - 1) / parts, fn);
}

}  // namespace anser
