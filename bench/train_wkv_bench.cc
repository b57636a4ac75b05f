// The WKV-7 recurrence of training (train/wkv7_train.h), forward and backward alone, at the
// shapes of a B8 T128 step with 4 heads and of a B1 T512 step with 12 heads (head size 64), on
// every kernel table, in each form of the forward, on 1 and 2 threads.
#include <benchmark/benchmark.h>

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "kernels/kernels.h"
#include "train/wkv7_train.h"

namespace anser {
namespace {

constexpr int64_t kHeadSize = 64;

struct Shape {
  const char* name;
  int64_t batch, n_tokens, n_head;
};

// Inputs in the ranges training sees: w ∈ (0.545, 1), a = −κ̂ with κ̂ unit-norm per head,
// b = κ̂⊙α with α ∈ (0, 1), r, k, v ∈ [−1, 1).
struct Inputs {
  std::vector<float> r, w, k, v, a, b;

  explicit Inputs(int64_t n) : r(n), w(n), k(n), v(n), a(n), b(n) {
    uint32_t state = 12345;  // a cheap generator is all a benchmark needs
    auto next = [&] {
      state = state * 1664525u + 1013904223u;
      return static_cast<float>(state >> 8) * (1.0f / 16777216.0f);  // [0, 1)
    };
    for (int64_t i = 0; i < n; ++i) {
      r[i] = 2 * next() - 1, k[i] = 2 * next() - 1, v[i] = 2 * next() - 1;
      w[i] = 0.546f + 0.453f * next();
      a[i] = 2 * next() - 1;
    }
    for (int64_t h = 0; h < n; h += kHeadSize) {
      float norm = 0;
      for (int64_t j = 0; j < kHeadSize; ++j) norm += a[h + j] * a[h + j];
      for (int64_t j = 0; j < kHeadSize; ++j) {
        const float kappa = a[h + j] / std::sqrt(norm);
        a[h + j] = -kappa;
        b[h + j] = kappa * next();
      }
    }
  }
};

void Run(benchmark::State& state, const CpuKernels* table, Shape shape, Wkv7Form form,
         bool backward, int threads) {
  SelectKernelsForTesting(table);
  const int64_t n = shape.batch * shape.n_tokens * shape.n_head * kHeadSize;
  const Inputs in(n);
  Wkv7TrainArgs<float> p{shape.batch, shape.n_tokens, shape.n_head, kHeadSize,   in.r.data(),
                         in.w.data(), in.k.data(),    in.v.data(),  in.a.data(), in.b.data(),
                         nullptr,     threads,        form};
  std::vector<float> y(n), sa(n), dy(in.v),
      ckpt(Wkv7CheckpointSize(shape.batch, shape.n_tokens, shape.n_head, kHeadSize));
  std::vector<float> dr(n), dw(n), dk(n), dv(n), da(n), db(n);
  Wkv7TrainForward(p, y.data(), sa.data(), ckpt.data());
  for (auto _ : state) {
    if (backward) {
      Wkv7TrainBackward(p, sa.data(), ckpt.data(), dy.data(), dr.data(), dw.data(), dk.data(),
                        dv.data(), da.data(), db.data(), static_cast<float*>(nullptr));
    } else {
      Wkv7TrainForward(p, y.data(), sa.data(), ckpt.data());
    }
    benchmark::ClobberMemory();
  }
  SelectKernelsForTesting(nullptr);
  state.counters["tok/s"] =
      benchmark::Counter(static_cast<double>(shape.batch * shape.n_tokens * state.iterations()),
                         benchmark::Counter::kIsRate);
}

bool Register() {
  constexpr Shape kShapes[] = {{"B8T128H4", 8, 128, 4}, {"B1T512H12", 1, 512, 12}};
  constexpr std::pair<Wkv7Form, const char*> kForms[] = {{Wkv7Form::kSequential, "sequential"},
                                                         {Wkv7Form::kChunked, "chunked"}};
  for (const CpuKernels* table : AllKernels()) {
    for (const bool backward : {false, true}) {
      for (const auto& [form, form_name] : kForms) {
        for (const Shape& s : kShapes) {
          for (const int threads : {1, 2}) {
            const std::string name = std::string("wkv_") + (backward ? "backward_" : "forward_") +
                                     form_name + "/" + table->name + "/" + s.name +
                                     "/threads:" + std::to_string(threads);
            benchmark::RegisterBenchmark(name.c_str(), Run, table, s, form, backward, threads)
                ->UseRealTime()
                ->Unit(benchmark::kMillisecond);
          }
        }
      }
    }
  }
  return true;
}

const bool kRegistered = Register();

}  // namespace
}  // namespace anser
