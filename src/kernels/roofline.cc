#include "kernels/roofline.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <vector>

#include "core/thread_pool.h"
#include "kernels/cpu/roofline_avx2.h"

namespace anser {
namespace {

bool HasAvx2() {
#if defined(__x86_64__)
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
  return false;
#endif
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

}  // namespace

Roofline MeasureRoofline() {
  ThreadPool& pool = KernelPool();
  const int threads = pool.threads();
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
    const auto start = std::chrono::steady_clock::now();
    pool.ParallelFor(threads, 1, [&](int64_t begin, int64_t end) {
      for (int64_t t = begin; t < end; ++t) {
        const float* p = buffer.data() + t * per_thread;
        g_sink.store(avx2 ? SumAvx2(p, per_thread) : SumScalar(p, per_thread), std::memory_order_relaxed);
      }
    });
    const double s = Seconds(start);
    if (pass > 0) best = std::max(best, static_cast<double>(per_thread * threads) * sizeof(float) / s / 1e9);
  }
  r.read_gb_s = best;

  // Peak FMA: each thread runs the same number of rounds; best of three.
  constexpr int64_t kSteps = int64_t{1} << 22;
  const double flop_per_step = avx2 ? 12.0 * 8 * 2 : 8.0 * 2;
  best = 0.0;
  for (int pass = 0; pass < 3; ++pass) {
    const auto start = std::chrono::steady_clock::now();
    pool.ParallelFor(threads, 1, [&](int64_t begin, int64_t end) {
      for (int64_t t = begin; t < end; ++t) {
        g_sink.store(avx2 ? FmaLoopAvx2(kSteps) : FmaLoopScalar(kSteps), std::memory_order_relaxed);
      }
    });
    best = std::max(best, flop_per_step * static_cast<double>(kSteps) * threads / Seconds(start) / 1e9);
  }
  r.peak_gflop_s = best;
  return r;
}

}  // namespace anser
