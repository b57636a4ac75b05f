// A persistent pool of worker threads for data-parallel loops inside kernels.
//
// Workers are created once (Resize) and reused: a ParallelFor allocates nothing and creates no
// thread. Idle workers spin for a short while before blocking on a futex (std::atomic::wait),
// so a token's many small parallel loops do not each pay a kernel wake-up, while a pool left
// idle costs no CPU. The caller runs chunks too and never waits for a worker that has not
// started: on a machine busy with other work, a loop degrades to running on fewer threads.
//
// Thread-safety: ParallelFor may be called from any thread. One loop runs on the pool at a
// time; a call that finds the pool busy (another thread's loop, or a nested call from inside a
// loop body) runs its loop inline on the calling thread, so calls never deadlock.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

namespace anser {

class ThreadPool {
 public:
  // Runs body(begin, end) over [begin, end) ranges that cover [0, n) exactly once.
  using Body = void (*)(void* ctx, int64_t begin, int64_t end);

  explicit ThreadPool(int threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  // Threads that run a loop, the caller included (≥ 1).
  int threads() const { return threads_; }

  // Stops the workers and starts threads − 1 new ones; waits for a running loop to end.
  void Resize(int threads);

  // Splits [0, n) into chunks of `chunk` indices (the last may be shorter), handed out in order
  // to the caller and the workers; returns when every chunk has run.
  void ParallelFor(int64_t n, int64_t chunk, Body body, void* ctx);

  // The same with any callable f(begin, end); nothing is allocated.
  template <typename F>
  void ParallelFor(int64_t n, int64_t chunk, const F& f) {
    ParallelFor(
        n, chunk,
        [](void* c, int64_t begin, int64_t end) { (*static_cast<const F*>(c))(begin, end); },
        const_cast<F*>(&f));
  }

 private:
  void StartWorkers();
  void StopWorkers();
  void RunChunks();

  int threads_ = 1;
  std::vector<std::thread> workers_;
  std::mutex busy_;  // held while a loop runs on the pool, and while resizing

  // The current loop: written while `phase_` is odd (closed), read by workers once it is even.
  Body body_ = nullptr;
  void* ctx_ = nullptr;
  int64_t n_ = 0;
  int64_t chunk_ = 1;
  std::atomic<int64_t> next_{0};  // first index not yet handed out
  // Workers that have joined the current loop. A worker joins before checking that the loop is
  // open, and the caller closes the loop before waiting for this to reach zero, so the caller
  // waits only for workers already running chunks, never for one still waking up.
  std::atomic<int> active_{0};
  std::atomic<uint32_t> phase_{1};  // +1 at every open and close: even = a loop is open
  std::atomic<bool> stop_{false};
};

// The process-wide pool the kernels use (created on first use with one thread per core).
ThreadPool& KernelPool();

}  // namespace anser
