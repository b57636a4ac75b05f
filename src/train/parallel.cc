#include "train/parallel.h"

#include <algorithm>
#include <thread>
#include <vector>

namespace anser {
namespace {

// Starting a thread costs tens of microseconds: below ~1M multiply-adds it does not pay.
constexpr int64_t kMinCostPerThread = int64_t{1} << 20;

}  // namespace

void ParallelFor(int64_t n, int threads, int64_t cost_per_item,
                 const std::function<void(int64_t, int64_t)>& fn) {
  if (n <= 0) return;
  const int64_t by_cost = std::max<int64_t>(1, n * std::max<int64_t>(cost_per_item, 1) / kMinCostPerThread);
  const int64_t parts = std::min<int64_t>({static_cast<int64_t>(std::max(threads, 1)), n, by_cost});
  if (parts <= 1) {
    fn(0, n);
    return;
  }
  std::vector<std::thread> pool;
  pool.reserve(static_cast<size_t>(parts - 1));
  for (int64_t p = 1; p < parts; ++p) {
    pool.emplace_back(fn, n * p / parts, n * (p + 1) / parts);
  }
  fn(0, n / parts);
  for (std::thread& t : pool) t.join();
}

}  // namespace anser
