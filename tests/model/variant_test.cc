// The model switches on the inference side: parsing, the switch tensors a file carries through
// every format Anser writes, refusal of a switch Anser does not know, and that each switch
// changes what the model computes (so none is silently run as plain x070). That the forward
// pass computes each switch's formulas is checked against the training forward
// (tests/train/grad_fixture_test.cc), whose gradients are checked by finite differences.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "anser/model.h"
#include "io/formats.h"
#include "model/convert.h"
#include "model/variant.h"
#include "model/weights.h"
#include "test_files.h"

namespace anser {
namespace {

ModelConfig SmallConfig(const ModelVariant& variant) {
  ModelConfig c;
  c.n_layer = 2, c.n_embd = 64, c.n_head = 4, c.head_size = 16, c.n_ffn = 128, c.n_vocab = 50;
  c.lora_ranks = {8, 8, 4, 12};
  c.variant = variant;
  return c;
}

std::vector<float> Logits(const std::shared_ptr<const Model>& model) {
  Session session(model, SessionOptions{1});
  State state(model->config());
  std::vector<float> logits;
  const std::vector<int> tokens = {3, 14, 15, 9, 26, 5, 35, 8, 9, 7, 9, 3};
  session.Prefill(state, tokens, true, &logits);
  return logits;
}

float MaxDiff(const std::vector<float>& a, const std::vector<float>& b) {
  float d = 0;
  for (size_t i = 0; i < a.size(); ++i) d = std::max(d, std::abs(a[i] - b[i]));
  return d;
}

TEST(VariantTest, ParsesAblationListsAndRefusesBadOnes) {
  EXPECT_TRUE(ParseModelVariant("", 1.0).value().IsDefault());
  EXPECT_TRUE(ParseModelVariant("full", 1.0).value().IsDefault());
  const ModelVariant v = ParseModelVariant("no-bonus, scalar-decay", 1.0).value();
  EXPECT_TRUE(v.no_bonus && v.scalar_decay && !v.no_delta && !v.scalar_iclr && !v.shared_keys);
  EXPECT_EQ(v.Name(), "scalar-decay+no-bonus");
  EXPECT_EQ(ParseModelVariant("delta", 1.0).value().removal_scale(), 0.0);
  EXPECT_EQ(ParseModelVariant("", 2.0).value().removal_scale(), 2.0);
  EXPECT_EQ(ParseModelVariant("", 2.0).value().Name(), "full");
  const auto unknown = ParseModelVariant("delta,no-decay", 1.0);
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.message().find("'no-decay'"), std::string::npos) << unknown.message();
  EXPECT_NE(unknown.message().find("shared-keys"), std::string::npos) << unknown.message();
  EXPECT_FALSE(ParseModelVariant("delta", 2.0).ok());
  EXPECT_FALSE(ParseModelVariant("", -1.0).ok());
  EXPECT_FALSE(ParseModelVariant("", NAN).ok());
  EXPECT_TRUE(VariantTensors(ModelVariant()).empty());
}

// Each switch, alone, changes the logits of the same weights; the default has no switch
// tensors, so a plain model's file is exactly what it was before switches existed.
TEST(VariantTest, EverySwitchChangesTheForwardPass) {
  auto plain = Model::Random(SmallConfig({}), "f32", 3);
  ASSERT_TRUE(plain.ok()) << plain.message();
  for (const TensorView& t : plain.value()->weights().store().tensors()) {
    EXPECT_FALSE(IsSwitchTensorName(t.name)) << t.name;
  }
  const std::vector<float> base = Logits(plain.value());
  for (const auto& [ablate, mult] : std::vector<std::pair<std::string, double>>{
           {"delta", 1.0}, {"", 2.0}, {"scalar-decay", 1.0}, {"scalar-iclr", 1.0},
           {"shared-keys", 1.0}, {"no-bonus", 1.0}}) {
    auto model = Model::Random(SmallConfig(ParseModelVariant(ablate, mult).value()), "f32", 3);
    ASSERT_TRUE(model.ok()) << model.message();
    EXPECT_EQ(model.value()->config().variant, ParseModelVariant(ablate, mult).value());
    EXPECT_EQ(model.value()->params(), plain.value()->params()) << "switch tensors are not parameters";
    EXPECT_GT(MaxDiff(Logits(model.value()), base), 1e-3f) << ablate << " x" << mult;
  }
}

// A model with switches written as .pth, GGUF and a Hugging Face folder loads back with the
// same switches and computes the same logits.
TEST(VariantTest, SwitchesTravelThroughEveryFormat) {
  const ModelVariant variant = ParseModelVariant("scalar-iclr,shared-keys", 1.5).value();
  auto model = Model::Random(SmallConfig(variant), "f32", 5, WeightLayout::kStored);
  ASSERT_TRUE(model.ok()) << model.message();
  auto running = Model::Random(SmallConfig(variant), "f32", 5);
  ASSERT_TRUE(running.ok());
  const std::vector<float> want = Logits(running.value());
  for (const std::string name : {"m.pth", "m.gguf", "m_hf"}) {
    const std::string path = testing::ScratchPath(name);
    ConvertOptions options;
    ASSERT_TRUE(SaveModel(*model.value(), path, options).ok()) << name;
    auto loaded = Model::Load(path);
    ASSERT_TRUE(loaded.ok()) << name << ": " << loaded.message();
    EXPECT_EQ(loaded.value()->config().variant, variant) << name;
    EXPECT_EQ(MaxDiff(Logits(loaded.value()), want), 0.0f) << name;
  }
}

// A file whose switch Anser does not know, or whose switch holds a bad value, is refused with
// the switch's name: it is never run as plain x070.
TEST(VariantTest, RefusesSwitchesItDoesNotKnow) {
  auto model = Model::Random(SmallConfig({}), "f32", 6, WeightLayout::kStored);
  ASSERT_TRUE(model.ok());
  const float one = 1.0f, half = 0.5f, two[2] = {2.0f, 2.0f};
  const std::pair<TensorView, std::string> cases[] = {
      {{"anser.ablate.no-ffn", DType::kF32, {1}, &one}, "anser.ablate.no-ffn"},
      {{"anser.ablate.delta", DType::kF32, {1}, &half}, "anser.ablate.delta"},
      {{"anser.iclr_mult", DType::kF32, {2}, two}, "anser.iclr_mult"},
  };
  for (const auto& [extra, named] : cases) {
    std::vector<TensorView> views = model.value()->weights().store().tensors();
    views.push_back(extra);
    const std::string path = testing::ScratchPath("switch.pth");
    ASSERT_TRUE(SaveTorchPth(path, views).ok());
    auto loaded = Model::Load(path);
    ASSERT_FALSE(loaded.ok()) << named;
    EXPECT_NE(loaded.message().find(named), std::string::npos) << loaded.message();
  }
}

}  // namespace
}  // namespace anser
