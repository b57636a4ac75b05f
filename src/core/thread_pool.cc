#include "core/thread_pool.h"

#include <algorithm>
#include <chrono>

namespace anser {
namespace {

// How long an idle worker polls before blocking. Long enough to bridge the gap between the
// parallel loops of one token (the small per-token work in between takes microseconds), short
// enough that an idle pool stops burning a core almost at once.
constexpr auto kSpin = std::chrono::microseconds(200);

inline void CpuRelax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

}  // namespace

ThreadPool::ThreadPool(int threads) : threads_(std::max(threads, 1)) { StartWorkers(); }

ThreadPool::~ThreadPool() { StopWorkers(); }

void ThreadPool::Resize(int threads) {
  std::lock_guard<std::mutex> lock(busy_);
  threads = std::max(threads, 1);
  if (threads == threads_) return;
  StopWorkers();
  threads_ = threads;
  StartWorkers();
}

void ThreadPool::StartWorkers() {
  stop_.store(false);
  // Each worker starts from the phase current now, not from when its thread first runs: a stop
  // that comes before then must still be seen as a change.
  const uint32_t start = phase_.load();
  workers_.reserve(static_cast<size_t>(threads_ - 1));
  for (int i = 1; i < threads_; ++i) {
    workers_.emplace_back([this, start] {
      uint32_t seen = start;
      for (;;) {
        // A stop may land between the check below and the re-read of the phase, leaving `seen`
        // at the final phase that will never move again: look once more before waiting.
        if (stop_.load(std::memory_order_acquire)) return;
        // Wait for the phase to move: poll, then block.
        const auto spin_end = std::chrono::steady_clock::now() + kSpin;
        uint32_t now = phase_.load(std::memory_order_acquire);
        for (int polls = 0; now == seen; ++polls) {
          CpuRelax();
          if ((polls & 63) == 63 && std::chrono::steady_clock::now() > spin_end) {
            phase_.wait(seen, std::memory_order_acquire);
          }
          now = phase_.load(std::memory_order_acquire);
        }
        if (stop_.load(std::memory_order_acquire)) return;
        // Join, then look again: only a loop still open after joining may be run.
        active_.fetch_add(1);
        seen = phase_.load();
        if (seen % 2 == 0) RunChunks();
        active_.fetch_sub(1, std::memory_order_release);
      }
    });
  }
}

void ThreadPool::StopWorkers() {
  stop_.store(true);
  phase_.fetch_add(2);  // moves the phase and keeps it closed
  phase_.notify_all();
  for (std::thread& t : workers_) t.join();
  workers_.clear();
}

void ThreadPool::RunChunks() {
  for (;;) {
    const int64_t begin = next_.fetch_add(chunk_, std::memory_order_relaxed);
    if (begin >= n_) return;
    body_(ctx_, begin, std::min(begin + chunk_, n_));
  }
}

void ThreadPool::ParallelFor(int64_t n, int64_t chunk, Body body, void* ctx) {
  if (n <= 0) return;
  chunk = std::max<int64_t>(chunk, 1);
  std::unique_lock<std::mutex> lock(busy_, std::try_to_lock);
  if (!lock.owns_lock() || workers_.empty() || n <= chunk) {
    for (int64_t begin = 0; begin < n; begin += chunk) body(ctx, begin, std::min(begin + chunk, n));
    return;
  }
  body_ = body;
  ctx_ = ctx;
  n_ = n;
  chunk_ = chunk;
  next_.store(0, std::memory_order_relaxed);
  phase_.fetch_add(1);  // open
  phase_.notify_all();
  RunChunks();
  phase_.fetch_add(1);  // close: workers joining from now on leave without touching the loop
  // Workers that joined may still run chunks and read the parameters: wait for them.
  for (int polls = 0; active_.load() != 0; ++polls) {
    if (polls < 4096) {
      CpuRelax();
    } else {
      std::this_thread::yield();
    }
  }
}

ThreadPool& KernelPool() {
  static ThreadPool pool(static_cast<int>(std::max(1u, std::thread::hardware_concurrency())));
  return pool;
}

}  // namespace anser
