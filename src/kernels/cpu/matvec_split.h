// How a matrix–vector product is split over the kernel pool's threads.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "core/thread_pool.h"

namespace anser {

// How far ahead a one-token product prefetches the weight rows it streams. The hardware
// prefetcher alone stops at each 4 KiB page; 16 KiB ahead took the f16 head product
// (65536 × 768, two threads) from 35 to 43 GB/s.
inline constexpr size_t kStreamPrefetchBytes = 16 << 10;

// Rows per chunk: a multiple of `group` (the rows a kernel does together), about four chunks
// per thread so a thread slowed by another process is balanced by the others, and never under
// ~32 KiB of weights, below which waking a worker costs more than the rows.
inline int64_t MatvecRowChunk(int64_t rows, size_t row_bytes, int64_t group) {
  constexpr size_t kMinChunkBytes = 32 << 10;
  const int64_t threads = KernelPool().threads();
  int64_t chunk = (rows + 4 * threads - 1) / (4 * threads);
  const auto min_rows = static_cast<int64_t>(kMinChunkBytes / std::max<size_t>(row_bytes, 1));
  chunk = std::max(chunk, min_rows);
  return std::max<int64_t>((chunk + group - 1) / group * group, group);
}

}  // namespace anser
