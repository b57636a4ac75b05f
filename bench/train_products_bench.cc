// Training's products (train/gemm.h) at the shapes of one L12 C768 B1 T512 step (512 tokens,
// C 768, FFN 3072), through every kernel table, on 2 threads; reports FLOP/s. Compare against
// kernels_bench's peak_fma in the same run.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <string>
#include <vector>

#include "kernels/kernels.h"
#include "train/gemm.h"

namespace anser {
namespace {

constexpr int64_t kTokens = 512;
constexpr int kThreads = 2;

enum class Op { kNN, kNT, kTN };

std::vector<float> Values(int64_t n) {
  std::vector<float> v(static_cast<size_t>(n));
  uint32_t state = 12345;  // a cheap generator: values in [−1, 1) are all a benchmark needs
  for (float& f : v) {
    state = state * 1664525u + 1013904223u;
    f = static_cast<float>(static_cast<int32_t>(state)) * (1.0f / 2147483648.0f);
  }
  return v;
}

// One product of the step: Y = X·Wᵀ (NT, the forward projections), dX = dY·W (NN, their input
// gradients), dW += dYᵀ·X (TN, their weight gradients), for W out × in.
void Product(benchmark::State& state, const CpuKernels* table, Op op, int64_t out, int64_t in) {
  SelectKernelsForTesting(table);
  const std::vector<float> x = Values(kTokens * in), w = Values(out * in),
                           dy = Values(kTokens * out);
  std::vector<float> y(static_cast<size_t>(kTokens * out)), dx(static_cast<size_t>(kTokens * in)),
      dw(static_cast<size_t>(out * in));
  for (auto _ : state) {
    switch (op) {
      case Op::kNT:
        GemmNT(x.data(), w.data(), kTokens, in, out, y.data(), false, kThreads);
        break;
      case Op::kNN:
        GemmNN(dy.data(), w.data(), kTokens, out, in, dx.data(), false, kThreads);
        break;
      case Op::kTN:
        GemmTNAcc(dy.data(), x.data(), kTokens, out, in, dw.data(), kThreads);
        break;
    }
    benchmark::ClobberMemory();
  }
  SelectKernelsForTesting(nullptr);
  state.counters["FLOP/s"] =
      benchmark::Counter(2.0 * kTokens * out * in * static_cast<double>(state.iterations()),
                         benchmark::Counter::kIsRate);
}

bool Register() {
  struct Shape {
    const char* name;
    int64_t out, in;
  };
  constexpr Shape kShapes[] = {
      {"768x768", 768, 768}, {"3072x768", 3072, 768}, {"768x3072", 768, 3072}};
  constexpr std::pair<Op, const char*> kOps[] = {{Op::kNT, "nt"}, {Op::kNN, "nn"}, {Op::kTN, "tn"}};
  for (const CpuKernels* table : AllKernels()) {
    for (const auto& [op, op_name] : kOps) {
      for (const Shape& s : kShapes) {
        benchmark::RegisterBenchmark(
            (std::string("train_") + op_name + "/" + table->name + "/" + s.name + "/threads:2")
                .c_str(),
            Product, table, op, s.out, s.in)
            ->UseRealTime()
            ->Unit(benchmark::kMillisecond);
      }
    }
  }
  return true;
}

const bool kRegistered = Register();

}  // namespace
}  // namespace anser
