// Central finite differences of the loss, in float64, against the analytic backward on a
// random small model (2 layers, head size 16, odd T so the WKV backward both reloads stored
// states and steps back inside a partial chunk), for a few coordinates of every tensor.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>

#include "anser/model.h"
#include "train/grad.h"

namespace anser {
namespace {

// In double the loss (≈ log V ≈ 3.4) is exact to ~1e-15, so with a step h = 1e-5 the
// rounding error of (L(θ+h) − L(θ−h))/2h is ~1e-15/1e-5 = 1e-10 and the truncation error
// h²·L'''/6 is ~1e-11 for the O(1) third derivatives of this model. A bound of
// 1e-6·|g| + 1e-8 is far above both, and far below any real mistake (a dropped term changes
// a gradient by a sizeable fraction of itself).
constexpr double kStep = 1e-5;
constexpr double kRelTol = 1e-6;
constexpr double kAbsTol = 1e-8;

ModelConfig SmallConfig() {
  ModelConfig c;
  c.n_layer = 2, c.n_embd = 32, c.n_head = 2, c.head_size = 16, c.n_ffn = 64, c.n_vocab = 29;
  c.lora_ranks = {4, 4, 3, 6};
  return c;
}

// The random model's weights, each nudged so that no two channels share a value (the random
// store sets the norms, k_k and k_a to constants, which would hide indexing mistakes).
Params<double> SmallParams(uint64_t seed) {
  auto model = Model::Random(SmallConfig(), "f32", seed);
  EXPECT_TRUE(model.ok()) << model.message();
  Params<double> p = ParamsFromModel(*model.value()).Cast<double>();
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(-0.2, 0.2);
  for (NamedTensor<double>& t : p.tensors()) {
    for (double& x : t.data) x += u(rng);
  }
  return p;
}

Batch RandomBatch(int64_t B, int64_t T, int vocab, uint64_t seed) {
  std::mt19937_64 rng(seed);
  Batch b;
  b.batch = B;
  b.n_tokens = T;
  for (int64_t i = 0; i < B * T; ++i) {
    b.inputs.push_back(static_cast<int>(rng() % static_cast<uint64_t>(vocab)));
    b.targets.push_back(static_cast<int>(rng() % static_cast<uint64_t>(vocab)));
  }
  return b;
}

// A few coordinates of a tensor of n values: both ends and `inner` in between.
std::vector<size_t> Coordinates(size_t n, std::mt19937_64& rng, int inner = 2) {
  std::vector<size_t> idx{0, n - 1};
  for (int i = 0; i < inner; ++i) idx.push_back(static_cast<size_t>(rng() % n));
  return idx;
}

void ExpectClose(double analytic, double numeric, const std::string& what) {
  EXPECT_LE(std::abs(analytic - numeric), kRelTol * std::abs(analytic) + kAbsTol)
      << what << ": analytic " << analytic << ", finite difference " << numeric;
}

// A few coordinates of every tensor (the ends and `inner` more): the analytic gradient against
// central differences.
void ExpectGradientsMatchDifferences(Params<double>& params, const Batch& batch, uint64_t seed,
                                     Params<double>* grads, int inner = 2,
                                     const GradOptions& options = {}) {
  ASSERT_TRUE(ComputeGradients(params, batch, options, grads).ok());
  Params<double> scratch = params.ZerosLike();
  auto loss = [&]() { return ComputeGradients(params, batch, options, &scratch).value(); };
  std::mt19937_64 rng(seed);
  for (NamedTensor<double>& t : params.tensors()) {
    const double* g = grads->Find(t.name);
    for (size_t i : Coordinates(t.data.size(), rng, inner)) {
      const double saved = t.data[i];
      t.data[i] = saved + kStep;
      const double up = loss();
      t.data[i] = saved - kStep;
      const double down = loss();
      t.data[i] = saved;
      ExpectClose(g[i], (up - down) / (2 * kStep), t.name + "[" + std::to_string(i) + "]");
    }
  }
}

TEST(GradFiniteDifferenceTest, EveryParameterKind) {
  Params<double> params = SmallParams(11);
  const Batch batch = RandomBatch(2, 19, SmallConfig().n_vocab, 5);
  Params<double> grads = params.ZerosLike();
  ExpectGradientsMatchDifferences(params, batch, 3, &grads);
  // Layer 0's value-residual tensors exist (as in official files) but are unused.
  for (const char* name : {"blocks.0.att.v0", "blocks.0.att.v1", "blocks.0.att.v2"}) {
    const NamedTensor<double>* t = nullptr;
    for (const NamedTensor<double>& x : grads.tensors()) {
      if (x.name == name) t = &x;
    }
    ASSERT_NE(t, nullptr) << name;
    for (double v : t->data) EXPECT_EQ(v, 0.0) << name;
  }
}

// With dropout the loss is a fixed function of the weights for one seed (the masks depend on
// the seed and positions alone), so its gradient is checked the same way; and it is not the
// loss without dropout.
TEST(GradFiniteDifferenceTest, DropoutMasksAreDifferentiated) {
  Params<double> params = SmallParams(13);
  Batch batch = RandomBatch(2, 7, SmallConfig().n_vocab, 6);
  for (size_t i = 1; i < batch.targets.size(); i += 4) batch.targets[i] = kNoTarget;
  GradOptions options;
  options.dropout = {0.3, 77, 14};
  Params<double> grads = params.ZerosLike();
  ExpectGradientsMatchDifferences(params, batch, 4, &grads, /*inner=*/1, options);
  const double plain = ComputeGradients(params, batch, GradOptions{}, &grads).value();
  EXPECT_GT(std::abs(ComputeGradients(params, batch, options, &grads).value() - plain), 1e-3);
}

// Each model switch (and two together), on a batch whose positions are partly unlabelled: the
// averaged tensors' gradients come back to every stored channel, the replaced ones get zero.
TEST(GradFiniteDifferenceTest, EverySwitchWithMaskedTargets) {
  const std::pair<const char*, double> variants[] = {
      {"delta", 1.0},        {"", 2.0},         {"scalar-decay", 1.0},          {"scalar-iclr", 1.0},
      {"shared-keys", 1.0},  {"no-bonus", 1.0}, {"scalar-decay,no-bonus", 0.5},
  };
  uint64_t seed = 20;
  for (const auto& [ablate, mult] : variants) {
    SCOPED_TRACE(std::string("--ablate '") + ablate + "' --iclr-mult " + std::to_string(mult));
    ModelConfig config = SmallConfig();
    config.variant = ParseModelVariant(ablate, mult).value();
    Params<double> stored = SmallParams(++seed);
    Params<double> params(config);
    for (const NamedTensor<double>& t : stored.tensors()) {
      params.Add(t.name, t.shape);
      std::copy(t.data.begin(), t.data.end(), params.Find(t.name));
    }
    Batch batch = RandomBatch(2, 9, config.n_vocab, seed);
    for (size_t i = 0; i < batch.targets.size(); i += 3) batch.targets[i] = kNoTarget;
    Params<double> grads = params.ZerosLike();
    ExpectGradientsMatchDifferences(params, batch, seed, &grads, /*inner=*/0);
    if (config.variant.shared_keys || config.variant.no_bonus) {
      for (const char* name : {"blocks.1.att.k_k", "blocks.1.att.k_a", "blocks.1.att.r_k"}) {
        const bool replaced = std::string(name).ends_with("r_k") ? config.variant.no_bonus
                                                                  : config.variant.shared_keys;
        if (replaced) {
          EXPECT_EQ(grads.Find(name)[5], 0.0) << name;
        }
      }
    }
  }
}

// The loss is the mean over the labelled positions only: unlabelling a position removes its
// term, and labels on the remaining positions are all that the loss depends on.
TEST(GradFiniteDifferenceTest, MaskedLossAveragesTheLabelledPositions) {
  const Params<double> params = SmallParams(31);
  const Batch full = RandomBatch(1, 12, SmallConfig().n_vocab, 9);
  const std::vector<double> logits = TrainForwardLogits(params, full, 1).value();
  const int64_t V = SmallConfig().n_vocab;
  Batch masked = full;
  double sum = 0;
  int labelled = 0;
  for (int64_t t = 0; t < 12; ++t) {
    if (t % 4 != 1) {
      masked.targets[static_cast<size_t>(t)] = kNoTarget;
      continue;
    }
    const double* z = logits.data() + t * V;
    double lse = 0, zmax = *std::max_element(z, z + V);
    for (int64_t i = 0; i < V; ++i) lse += std::exp(z[i] - zmax);
    sum += zmax + std::log(lse) - z[full.targets[static_cast<size_t>(t)]];
    ++labelled;
  }
  Params<double> grads = params.ZerosLike();
  EXPECT_NEAR(ComputeGradients(params, masked, GradOptions{}, &grads).value(), sum / labelled, 1e-12);
  const EvalStats stats = EvaluateBatch(params, masked, static_cast<const double*>(nullptr), 1).value();
  EXPECT_NEAR(stats.loss, sum / labelled, 1e-12);
  EXPECT_EQ(stats.labelled, labelled);
  for (int64_t t = 0; t < 12; ++t) {
    const double* z = logits.data() + t * V;
    const bool right = std::max_element(z, z + V) - z == full.targets[static_cast<size_t>(t)];
    EXPECT_EQ(stats.correct[static_cast<size_t>(t)], t % 4 == 1 && right ? 1 : 0) << t;
  }
}

TEST(GradFiniteDifferenceTest, InitialStateWithFrozenModel) {
  const Params<double> params = SmallParams(12);
  const ModelConfig c = params.config();
  // T = 35: two stored 16-token states and a partial chunk of 3.
  const Batch batch = RandomBatch(2, 35, c.n_vocab, 6);
  std::mt19937_64 rng(4);
  std::uniform_real_distribution<double> u(-0.5, 0.5);
  std::vector<double> state(static_cast<size_t>(c.n_layer * c.n_head * c.head_size * c.head_size));
  for (double& x : state) x = u(rng);
  std::vector<double> grad, scratch;
  ASSERT_TRUE(ComputeStateGradient(params, batch, state, GradOptions{}, &grad).ok());
  auto loss = [&]() { return ComputeStateGradient(params, batch, state, GradOptions{}, &scratch).value(); };
  for (size_t i : Coordinates(state.size(), rng)) {
    for (size_t j : {i, state.size() / 2 + i % 7}) {
      const double saved = state[j];
      state[j] = saved + kStep;
      const double up = loss();
      state[j] = saved - kStep;
      const double down = loss();
      state[j] = saved;
      ExpectClose(grad[j], (up - down) / (2 * kStep), "init_state[" + std::to_string(j) + "]");
    }
  }
}

// L2Wrap adds the gradient of Σ_rows max_logit²·1e-4/(2·B·T) (its loss value is not reported),
// so finite differences of that sum plus the cross-entropy must match the L2Wrap gradient.
TEST(GradFiniteDifferenceTest, L2WrapIsTheGradientOfTheMaxLogitPenalty) {
  Params<double> params = SmallParams(13);
  const Batch batch = RandomBatch(2, 19, SmallConfig().n_vocab, 7);
  const int64_t V = SmallConfig().n_vocab, rows = batch.batch * batch.n_tokens;
  Params<double> grads = params.ZerosLike(), scratch = params.ZerosLike();
  ASSERT_TRUE(ComputeGradients(params, batch, GradOptions{true, 1, {}, false}, &grads).ok());
  auto objective = [&]() {
    const double ce = ComputeGradients(params, batch, GradOptions{}, &scratch).value();
    const std::vector<double> logits = TrainForwardLogits(params, batch, 1).value();
    double penalty = 0;
    for (int64_t r = 0; r < rows; ++r) {
      const double m = *std::max_element(logits.begin() + r * V, logits.begin() + (r + 1) * V);
      penalty += m * m * 1e-4 / (2.0 * static_cast<double>(rows));
    }
    return ce + penalty;
  };
  std::mt19937_64 rng(8);
  for (const char* name : {"head.weight", "ln_out.weight", "blocks.1.att.w1", "emb.weight"}) {
    double* p = nullptr;
    for (NamedTensor<double>& t : params.tensors()) {
      if (t.name == name) p = t.data.data();
    }
    ASSERT_NE(p, nullptr);
    const size_t n = grads.Find(name) == nullptr ? 0 : static_cast<size_t>(SmallConfig().n_embd);
    for (size_t i : Coordinates(n, rng)) {
      const double saved = p[i];
      p[i] = saved + kStep;
      const double up = objective();
      p[i] = saved - kStep;
      const double down = objective();
      p[i] = saved;
      ExpectClose(grads.Find(name)[i], (up - down) / (2 * kStep), std::string(name) + "[" + std::to_string(i) + "]");
    }
  }
}

}  // namespace
}  // namespace anser
