// A parallel-for for the training ops, on the process-wide kernel thread pool.
#pragma once

#include <cstdint>
#include <functional>

namespace anser {

// Calls fn(begin, end) over disjoint ranges covering [0, n), on up to `threads` threads of
// KernelPool() (the caller's thread included). Runs inline when threads ≤ 1 or when
// n·cost_per_item is too small to pay for waking workers. fn must be safe to run concurrently on
// disjoint ranges.
void ParallelFor(int64_t n, int threads, int64_t cost_per_item,
                 const std::function<void(int64_t, int64_t)>& fn);

}  // namespace anser
