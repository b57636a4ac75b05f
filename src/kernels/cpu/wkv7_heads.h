// How the SIMD tables run the WKV-7 recurrence: heads are independent, each runs all of its
// tokens in order (so the result never depends on how a prompt is split into calls), and the
// heads are split over the kernel pool. In an unnamed namespace, as the other ISA helper headers.
#pragma once

#include <cstdint>

#include "core/thread_pool.h"
#include "kernels/kernels.h"

namespace anser {
namespace {

// The vectors of one head at one token.
struct HeadToken {
  const float *r, *w, *k, *v, *a, *b;
  float* y;
};

// update_rows(s, n, i0, p) for every row group of every head and token: R rows at a time, then
// one at a time, rows i0 … of head state s (n×n).
template <int R, class Update, class UpdateOne>
void RunWkv7(const Wkv7Args& args, Update update_rows, UpdateOne update_row) {
  const auto head = [&](int64_t h) {
    const int64_t n = args.head_size;
    float* s = args.state + h * n * n;
    for (int64_t t = 0; t < args.n_tokens; ++t) {
      const int64_t o = t * args.stride + h * n;
      const HeadToken p{args.r + o, args.w + o, args.k + o, args.v + o,
                        args.a + o, args.b + o, args.y + o};
      int64_t i = 0;
      for (; i + R <= n; i += R) update_rows(s, n, i, p);
      for (; i < n; ++i) update_row(s, n, i, p);
    }
  };
  // Below ~16k multiply-adds a worker's wake-up costs more than it saves. Above, each thread
  // takes one contiguous range of heads: neighbouring heads share a cache line of state and of
  // y wherever the buffers are not 64-byte aligned, and written by two threads every token it
  // bounced between the cores (one head per chunk, 12×64, two threads: 512 tokens took 3.3 ms,
  // slower than one thread's 2.9; contiguous halves take 1.7 ms).
  const int64_t work = args.n_tokens * args.n_head * args.head_size * args.head_size;
  const int64_t threads = KernelPool().threads();
  const int64_t chunk = work < (16 << 10) ? args.n_head : (args.n_head + threads - 1) / threads;
  KernelPool().ParallelFor(args.n_head, chunk, [&](int64_t begin, int64_t end) {
    for (int64_t h = begin; h < end; ++h) head(h);
  });
}

}  // namespace
}  // namespace anser
