// Kernel micro-benchmarks: every table (ref, avx2, …) and weight type at the shapes of the 0.1B
// model, on 1 and 2 threads. Matrix–vector products report the weight bytes streamed per second
// (decode is bound by memory bandwidth); matrix products over a 512-token window and the peak
// FMA loop report FLOP/s (prefill is bound by arithmetic). Compare ratios within one run.
#include <benchmark/benchmark.h>
#include <immintrin.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/dtype.h"
#include "kernels/kernels.h"
#include "kernels/quantize.h"

namespace anser {
namespace {

constexpr DType kTypes[] = {DType::kF32,    DType::kF16,  DType::kBF16, DType::kQ8_0,
                            DType::kQ4_0,   DType::kQ4_1, DType::kQ5_0, DType::kQ5_1,
                            DType::kIQ4_NL, DType::kQ4_K, DType::kQ5_K, DType::kQ6_K,
                            DType::kIQ4_XS, DType::kQ3_K, DType::kQ2_K};

// Weights of one type and shape, in the layout table k packs them into. Large matrices take
// seconds to make, so only the latest one is kept (benchmarks are registered grouped by matrix),
// and repacked for another table from a copy of the stored bytes.
const MatRef& Weights(const CpuKernels* k, DType dtype, int64_t rows, int64_t cols) {
  static std::vector<uint8_t> stored, packed;
  static MatRef current{DType::kU8, nullptr, 0, 0};
  static void (*packed_by)(MatRef&, void*) = nullptr;
  const size_t row_bytes = DTypeRowBytes(dtype, cols);
  if (current.dtype != dtype || current.rows != rows || current.cols != cols) {
    stored.assign(row_bytes * static_cast<size_t>(rows), 0);
    std::vector<float> row(static_cast<size_t>(cols));
    uint32_t state = 12345;  // a cheap generator: values in [−1, 1) are all a benchmark needs
    for (int64_t r = 0; r < rows; ++r) {
      for (float& v : row) {
        state = state * 1664525u + 1013904223u;
        v = static_cast<float>(static_cast<int32_t>(state)) * (1.0f / 2147483648.0f);
      }
      QuantizeRow(dtype, row.data(), cols, stored.data() + static_cast<size_t>(r) * row_bytes);
    }
    packed_by = nullptr;
  }
  if (packed_by != k->pack) {
    packed = stored;
    current = MatRef{dtype, packed.data(), rows, cols};
    k->pack(current, packed.data());
    packed_by = k->pack;
  }
  return current;
}

std::vector<float> Ones(int64_t n) { return std::vector<float>(static_cast<size_t>(n), 0.5f); }

void Matvec(benchmark::State& state, const CpuKernels* k, DType dtype, int64_t rows, int64_t cols,
            int threads) {
  SetKernelThreads(threads);
  const MatRef& w = Weights(k, dtype, rows, cols);
  const std::vector<float> x = Ones(cols);
  std::vector<float> y(static_cast<size_t>(rows));
  for (auto _ : state) {
    k->matvec(w, x.data(), y.data());
    benchmark::DoNotOptimize(y.data());
  }
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(DTypeRowBytes(dtype, cols)) *
                          rows);
}

void Matmul(benchmark::State& state, const CpuKernels* k, DType dtype, int64_t rows, int64_t cols,
            int64_t n, int threads) {
  SetKernelThreads(threads);
  const MatRef& w = Weights(k, dtype, rows, cols);
  const std::vector<float> x = Ones(n * cols);
  std::vector<float> y(static_cast<size_t>(n * rows));
  for (auto _ : state) {
    k->matmul(w, x.data(), n, y.data());
    benchmark::DoNotOptimize(y.data());
  }
  state.counters["FLOP/s"] = benchmark::Counter(
      2.0 * static_cast<double>(n * rows * cols) * static_cast<double>(state.iterations()),
      benchmark::Counter::kIsRate);
}

void Wkv7(benchmark::State& state, const CpuKernels* k, int64_t heads, int64_t n_tokens,
          int threads) {
  SetKernelThreads(threads);
  constexpr int64_t kN = 64;
  const int64_t kC = heads * kN;
  std::vector<float> s(static_cast<size_t>(heads * kN * kN), 0.0f);
  const std::vector<float> r = Ones(n_tokens * kC), w(static_cast<size_t>(n_tokens * kC), 0.9f);
  const std::vector<float> a(static_cast<size_t>(n_tokens * kC), -0.1f);
  std::vector<float> y(static_cast<size_t>(n_tokens * kC));
  Wkv7Args args;
  args.n_tokens = n_tokens;
  args.n_head = heads;
  args.head_size = kN;
  args.stride = kC;
  args.state = s.data();
  args.r = args.k = args.v = args.b = r.data();
  args.w = w.data();
  args.a = a.data();
  args.y = y.data();
  for (auto _ : state) {
    k->wkv7(args);
    benchmark::DoNotOptimize(y.data());
  }
  // Per state element and token: row·a, the update (3 multiply-adds) and row·r.
  state.counters["FLOP/s"] =
      benchmark::Counter(10.0 * static_cast<double>(n_tokens * heads * kN * kN) *
                             static_cast<double>(state.iterations()),
                         benchmark::Counter::kIsRate);
}

// The machine's peak: independent 8-wide FMAs, enough of them to cover the FMA latency.
__attribute__((target("avx2,fma"))) void PeakFma(benchmark::State& state) {
  constexpr int kAcc = 12;
  constexpr int64_t kSteps = 1 << 16;
  for (auto _ : state) {
    __m256 acc[kAcc];
    for (int i = 0; i < kAcc; ++i) acc[i] = _mm256_set1_ps(static_cast<float>(i));
    const __m256 m = _mm256_set1_ps(0.999999f), c = _mm256_set1_ps(1e-7f);
    for (int64_t s = 0; s < kSteps; ++s) {
      for (int i = 0; i < kAcc; ++i) acc[i] = _mm256_fmadd_ps(acc[i], m, c);
    }
    for (int i = 0; i < kAcc; ++i) benchmark::DoNotOptimize(acc[i]);
  }
  state.counters["FLOP/s"] = benchmark::Counter(
      2.0 * 8 * kAcc * static_cast<double>(kSteps) * static_cast<double>(state.iterations()),
      benchmark::Counter::kIsRate);
}

std::string Name(const char* op, const CpuKernels* k, DType dtype, int64_t rows, int64_t cols,
                 int threads) {
  return std::string(op) + "/" + k->name + "/" + std::string(DTypeName(dtype)) + "/" +
         std::to_string(rows) + "x" + std::to_string(cols) + "/threads:" + std::to_string(threads);
}

bool Register() {
  benchmark::RegisterBenchmark("peak_fma/threads:1", PeakFma)->UseRealTime();
  benchmark::RegisterBenchmark("peak_fma/threads:2", PeakFma)->Threads(2)->UseRealTime();
  const std::vector<const CpuKernels*> tables = AllKernels();
  const int64_t shapes[][2] = {{768, 768}, {3072, 768}, {768, 3072}, {65536, 768}};
  for (DType dtype : kTypes) {
    for (const auto& shape : shapes) {
      for (const CpuKernels* k : tables) {
        for (int threads : {1, 2}) {
          benchmark::RegisterBenchmark(
              Name("matvec", k, dtype, shape[0], shape[1], threads).c_str(), Matvec, k, dtype,
              shape[0], shape[1], threads)
              ->UseRealTime();
        }
      }
    }
    for (const auto& shape : shapes) {
      for (const CpuKernels* k : tables) {
        // The reference takes seconds per product: one shape, one thread, as the baseline.
        if (k == &RefKernels() && (shape[0] != 768 || shape[1] != 768)) continue;
        for (int threads : {1, 2}) {
          if (k == &RefKernels() && threads == 2) continue;
          // 512: a prefill window; 8: batched decode, where the weights' bytes matter again. The
          // head runs for the last token of a prompt only, but for every sequence of a batch.
          for (int64_t n : {int64_t{512}, int64_t{8}}) {
            if (shape[0] == 65536 && n != 8) continue;
            benchmark::RegisterBenchmark(
                (Name("matmul", k, dtype, shape[0], shape[1], threads) + "/n:" + std::to_string(n))
                    .c_str(),
                Matmul, k, dtype, shape[0], shape[1], n, threads)
                ->UseRealTime();
          }
        }
      }
    }
  }
  // The heads of one layer of the 0.1B (12) and 0.4B (16) shapes: one token, a prompt window,
  // and eight windows' worth of tokens (a long prompt's share of time in the recurrence).
  for (const CpuKernels* k : tables) {
    for (int64_t heads : {12, 16}) {
      for (int64_t n_tokens : {1, 512, 4096}) {
        for (int threads : {1, 2}) {
          benchmark::RegisterBenchmark(
              (std::string("wkv7/") + k->name + "/" + std::to_string(heads) +
               "x64/tokens:" + std::to_string(n_tokens) + "/threads:" + std::to_string(threads))
                  .c_str(),
              Wkv7, k, heads, n_tokens, threads)
              ->UseRealTime();
        }
      }
    }
  }
  return true;
}

const bool kRegistered = Register();

}  // namespace
}  // namespace anser
