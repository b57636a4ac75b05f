#include "kernels/roofline.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "core/cpu_features.h"
#include "kernels/kernels.h"
#include "kernels/cpu/roofline_avx2.h"

namespace anser {
namespace {

bool HasAvx2() {
  const CpuFeatures& cpu = GetCpuFeatures();
  return cpu.avx2 && cpu.fma;
}

float SumScalar(const float* x, int64_t n) {
  float a[8] = {};
  for (int64_t i = 0; i < n; i += 8) {
    for (int j = 0; j < 8; ++j) a[j] += x[i + j];
  }
  float total = 0.0f;
  for (float v : a) total += v;
  return total;
}

float FmaLoopScalar(int64_t steps) {
  float acc[8] = {0, 1, 2, 3, 4, 5, 6, 7};
  for (int64_t s = 0; s < steps; ++s) {
    for (float& a : acc) a = a * 0.999999f + 1e-7f;
  }
  float total = 0.0f;
  for (float v : acc) total += v;
  return total;
}

double Seconds(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// Keeps results observable so the measured loops are not removed.
std::atomic<float> g_sink{0.0f};

// Runs f(t) on `threads` threads at once (their own, started together behind a barrier, so
// none joins late as a pool worker may) and returns the seconds from the start to the last end.
template <typename F>
double TimeOnAllThreads(int threads, const F& f) {
  std::atomic<int> ready{0};
  std::atomic<bool> go{false};
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      ready.fetch_add(1);
      while (!go.load(std::memory_order_acquire)) std::this_thread::yield();
      f(t);
    });
  }
  while (ready.load() != threads) std::this_thread::yield();
  const auto start = std::chrono::steady_clock::now();
  go.store(true, std::memory_order_release);
  for (std::thread& t : pool) t.join();
  return Seconds(start);
}

}  // namespace

Roofline MeasureRoofline() {
  const int threads = KernelThreads();
  const bool avx2 = HasAvx2();
  Roofline r;
  r.isa = avx2 ? "avx2+fma" : "scalar";

  // Read bandwidth: 512 MiB, far beyond any last-level cache, split evenly over the threads;
  // best of three passes after one that faults the pages in.
  constexpr int64_t kFloats = int64_t{128} << 20;
  std::vector<float> buffer(static_cast<size_t>(kFloats), 1.0f);
  const int64_t per_thread = kFloats / threads / 32 * 32;
  double best = 0.0;
  for (int pass = 0; pass < 4; ++pass) {
    const double s = TimeOnAllThreads(threads, [&](int t) {
      const float* p = buffer.data() + t * per_thread;
      g_sink.store(avx2 ? SumAvx2(p, per_thread) : SumScalar(p, per_thread), std::memory_order_relaxed);
    });
    if (pass > 0) best = std::max(best, static_cast<double>(per_thread * threads) * sizeof(float) / s / 1e9);
  }
  r.read_gb_s = best;

  // Peak FMA: each thread runs the same number of rounds; best of three.
  constexpr int64_t kSteps = int64_t{1} << 22;
  const double flop_per_step = avx2 ? 12.0 * 8 * 2 : 8.0 * 2;
  best = 0.0;
  for (int pass = 0; pass < 3; ++pass) {
    const double s = TimeOnAllThreads(threads, [&](int) {
      g_sink.store(avx2 ? FmaLoopAvx2(kSteps) : FmaLoopScalar(kSteps), std::memory_order_relaxed);
    });
    best = std::max(best, flop_per_step * static_cast<double>(kSteps) * threads / s / 1e9);
  }
  r.peak_gflop_s = best;
  return r;
}

}  // namespace anser
