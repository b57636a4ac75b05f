// Training's WKV-7 recurrence (train/wkv7_train.h) in float, in each form of the forward and on
// every kernel table, against the sequential recurrence in double, on random inputs in the
// ranges training gives it, at lengths that end on, before and after chunk boundaries.
#include "train/wkv7_train.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "kernels/kernels.h"

namespace anser {
namespace {

struct Shape {
  int64_t batch, n_tokens, n_head, head_size;
  bool init_state;
};

std::string Name(const Shape& s) {
  std::ostringstream name;
  name << "B" << s.batch << " T" << s.n_tokens << " H" << s.n_head << " N" << s.head_size
       << (s.init_state ? " with initial state" : "");
  return name.str();
}

// w ∈ (0.545, 1) as the clamp leaves it, a = −κ̂ with κ̂ unit-norm per head, b = κ̂⊙α with
// α ∈ (0, 1), r, k, v, dy and the initial state in (−1, 1).
struct Inputs {
  std::vector<double> r, w, k, v, a, b, dy, init;

  Inputs(const Shape& s, uint64_t seed) {
    const size_t n = static_cast<size_t>(s.batch * s.n_tokens * s.n_head * s.head_size);
    std::mt19937_64 rng(seed);
    std::uniform_real_distribution<double> unit(-1, 1), decay(0.546, 0.999), gate(0, 1);
    for (std::vector<double>* x : {&r, &k, &v, &dy, &a}) {
      x->resize(n);
      for (double& e : *x) e = unit(rng);
    }
    w.resize(n), b.resize(n);
    for (double& e : w) e = decay(rng);
    const size_t N = static_cast<size_t>(s.head_size);
    for (size_t h = 0; h < n; h += N) {
      double norm = 0;
      for (size_t j = 0; j < N; ++j) norm += a[h + j] * a[h + j];
      for (size_t j = 0; j < N; ++j) {
        const double kappa = a[h + j] / std::sqrt(norm);
        a[h + j] = -kappa;
        b[h + j] = kappa * gate(rng);
      }
    }
    if (s.init_state) {
      init.resize(static_cast<size_t>(s.n_head) * N * N);
      for (double& e : init) e = unit(rng);
    }
  }
};

template <typename Real>
std::vector<Real> Cast(const std::vector<double>& x) {
  return std::vector<Real>(x.begin(), x.end());
}

// The forward's outputs and the backward's gradients of one run.
template <typename Real>
struct Outputs {
  std::vector<Real> y, sa, ckpt, dr, dw, dk, dv, da, db, dstate;

  // The stored inputs (as Real) stay alive while the args point at them.
  Outputs(const Shape& s, const Inputs& in, Wkv7Form form, int threads) {
    const std::vector<Real> r = Cast<Real>(in.r), w = Cast<Real>(in.w), k = Cast<Real>(in.k),
                            v = Cast<Real>(in.v), a = Cast<Real>(in.a), b = Cast<Real>(in.b),
                            dy = Cast<Real>(in.dy), init = Cast<Real>(in.init);
    const Wkv7TrainArgs<Real> p{s.batch,
                                s.n_tokens,
                                s.n_head,
                                s.head_size,
                                r.data(),
                                w.data(),
                                k.data(),
                                v.data(),
                                a.data(),
                                b.data(),
                                s.init_state ? init.data() : nullptr,
                                threads,
                                form};
    const size_t n = r.size();
    for (std::vector<Real>* x : {&y, &sa, &dr, &dw, &dk, &dv, &da, &db}) x->resize(n);
    ckpt.resize(
        static_cast<size_t>(Wkv7CheckpointSize(s.batch, s.n_tokens, s.n_head, s.head_size)));
    dstate.assign(static_cast<size_t>(s.n_head * s.head_size * s.head_size), Real(0));
    Wkv7TrainForward(p, y.data(), sa.data(), ckpt.data());
    Wkv7TrainBackward(p, sa.data(), ckpt.data(), dy.data(), dr.data(), dw.data(), dk.data(),
                      dv.data(), da.data(), db.data(), dstate.data());
  }
};

// max |got − ref| / max |ref|: float's rounding, relative to the tensor's scale (max |got| where
// the reference is all zeros, as sa and its gradients are for one token from a zero state).
double MaxError(const std::vector<float>& got, const std::vector<double>& ref) {
  double diff = 0, scale = 0;
  for (size_t i = 0; i < ref.size(); ++i) {
    diff = std::max(diff, std::abs(got[i] - ref[i]));
    scale = std::max(scale, std::abs(ref[i]));
  }
  return scale == 0 ? diff : diff / scale;
}

// Float sums of up to a few hundred steps of 64-term products stay within ~1e-5 of the scale;
// a wrong term or index moves some value by a sizeable fraction of it.
constexpr double kForwardTol = 5e-6;
constexpr double kBackwardTol = 1e-4;

void ExpectMatches(const Shape& s, const std::string& what, const Outputs<float>& got,
                   const Outputs<double>& ref) {
  const std::string at = Name(s) + ", " + what;
  EXPECT_LE(MaxError(got.y, ref.y), kForwardTol) << "y, " << at;
  EXPECT_LE(MaxError(got.sa, ref.sa), kForwardTol) << "sa, " << at;
  EXPECT_LE(MaxError(got.ckpt, ref.ckpt), kForwardTol) << "checkpoints, " << at;
  const std::pair<const std::vector<float>*, const std::vector<double>*> grads[] = {
      {&got.dr, &ref.dr}, {&got.dw, &ref.dw}, {&got.dk, &ref.dk},        {&got.dv, &ref.dv},
      {&got.da, &ref.da}, {&got.db, &ref.db}, {&got.dstate, &ref.dstate}};
  const char* names[] = {"dr", "dw", "dk", "dv", "da", "db", "dstate"};
  for (size_t g = 0; g < std::size(grads); ++g) {
    EXPECT_LE(MaxError(*grads[g].first, *grads[g].second), kBackwardTol) << names[g] << ", " << at;
  }
}

TEST(Wkv7TrainTest, EveryFormAndTableMatchesTheDoubleRecurrence) {
  std::vector<Shape> shapes;
  for (const int64_t T : {1, 15, 16, 17, 63, 64, 65, 200}) {
    for (const bool init : {false, true}) shapes.push_back({2, T, 2, 64, init});
  }
  shapes.push_back({3, 33, 3, 16, true});  // a small head, as the gradient tests' model has
  uint64_t seed = 1;
  for (const Shape& s : shapes) {
    const Inputs in(s, seed++);
    const Outputs<double> ref(s, in, Wkv7Form::kSequential, 1);
    for (const CpuKernels* table : AllKernels()) {
      SelectKernelsForTesting(table);
      for (const auto& [form, form_name] : {std::pair{Wkv7Form::kSequential, "sequential"},
                                            {Wkv7Form::kChunked, "chunked"},
                                            {Wkv7Form::kFastest, "fastest"}}) {
        ExpectMatches(s, std::string(table->name) + ", " + form_name,
                      Outputs<float>(s, in, form, 2), ref);
      }
    }
    SelectKernelsForTesting(nullptr);
  }
}

}  // namespace
}  // namespace anser
