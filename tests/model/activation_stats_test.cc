// Session::CollectActivations: what the importance matrix is made of, checked on the tiny
// fixture model against inputs computed here from the weights.
#include "model/activation_stats.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "anser/model.h"
#include "kernels/elementwise.h"
#include "model/fixtures.h"
#include "model/weights.h"

namespace anser {
namespace {

const float* F32(const Model& model, const std::string& name) {
  const TensorView* t = model.weights().store().Find(name);
  EXPECT_NE(t, nullptr) << name;
  EXPECT_EQ(t->dtype, DType::kF32) << name;
  return static_cast<const float*>(t->data);
}

TEST(ActivationStats, CollectsTheInputsOfEveryLargeMatrix) {
  const testing::Fixture tiny = testing::ReadFixture("tiny-rwkv7-834K");
  auto model = Model::Load(tiny.dir + "/" + tiny.default_model, WeightLayout::kStored);
  ASSERT_TRUE(model.ok()) << model.message();
  const ModelConfig& cfg = (*model)->config();
  Session session(*model, {1});
  ActivationStats stats;
  session.CollectActivations(&stats);
  State state(cfg);
  std::vector<float> logits;
  const std::vector<int> tokens = {82, 79, 77};
  session.Prefill(state, tokens, /*all_positions=*/true, &logits);
  session.CollectActivations(nullptr);
  session.Prefill(state, tokens, true, &logits);  // not collected

  const Imatrix m = stats.ToImatrix();
  ASSERT_EQ(m.entries.size(), static_cast<size_t>(6 * cfg.n_layer + 1));
  for (const auto& [name, e] : m.entries) {
    EXPECT_EQ(e.count, 3.0f) << name;
    const size_t width = name.find("channel_mix_value") != std::string::npos ? cfg.n_ffn : cfg.n_embd;
    EXPECT_EQ(e.sum2.size(), width) << name;
  }

  // Layer 0's receptance input for the first token, from the zero shift state:
  // xr = h − h·x_r with h = LayerNorm(LayerNorm(emb[82]; ln0); ln1).
  const int64_t C = cfg.n_embd;
  std::vector<float> h(static_cast<size_t>(C));
  LayerNorm(F32(**model, "emb.weight") + 82 * C, F32(**model, "blocks.0.ln0.weight"),
            F32(**model, "blocks.0.ln0.bias"), C, 1e-5f, h.data());
  LayerNorm(h.data(), F32(**model, "blocks.0.ln1.weight"), F32(**model, "blocks.0.ln1.bias"), C, 1e-5f, h.data());
  const float* x_r = F32(**model, "blocks.0.att.x_r");
  // Stats over three tokens include the first one's square: compare with a run of one token.
  ActivationStats first;
  session.CollectActivations(&first);
  state.Reset();
  session.Prefill(state, std::vector<int>{82}, true, &logits);
  const Imatrix one = first.ToImatrix();
  const std::vector<float>& got = one.entries.at("blk.0.time_mix_receptance.weight").sum2;
  for (int64_t c = 0; c < C; ++c) {
    const double xr = h[c] + (0.0 - h[c]) * x_r[c];
    EXPECT_NEAR(got[c], xr * xr, 1e-5 * (1 + xr * xr)) << c;
  }
  for (int64_t c = 0; c < C; ++c) {
    EXPECT_GE(m.entries.at("blk.0.time_mix_receptance.weight").sum2[c], got[c] * (1 - 1e-6f)) << c;
  }
}

}  // namespace
}  // namespace anser
