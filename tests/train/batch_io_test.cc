// Batch JSON validation, the gradient files, and threads not changing the result.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>

#include "anser/model.h"
#include "io/formats.h"
#include "train/grad.h"
#include "test_files.h"

namespace anser {
namespace {

std::string ParseError(const std::string& json, int vocab = 10) {
  auto b = ParseBatchJson(json, "test.json");
  if (!b.ok()) return b.message();
  const Status s = ValidateBatch(b.value(), vocab);
  return s.ok() ? "" : s.message();
}

TEST(BatchTest, ParsesAndRejectsWithClearErrors) {
  auto b = ParseBatchJson(R"({"inputs": [[1, 2, 3], [4, 5, 6]], "targets": [[2, 3, 4], [5, 6, 7]]})", "x");
  ASSERT_TRUE(b.ok()) << b.message();
  EXPECT_EQ(b->batch, 2);
  EXPECT_EQ(b->n_tokens, 3);
  EXPECT_EQ(b->targets[5], 7);
  EXPECT_EQ(ParseError(R"({"inputs": [[1, 2, 3], [4, 5, 6]], "targets": [[2, 3, 4], [5, 6, 7]]})"), "");
  EXPECT_NE(ParseError("[1, 2]").find("not a JSON object"), std::string::npos);
  EXPECT_NE(ParseError(R"({"inputs": [[1]]})").find("missing \"targets\""), std::string::npos);
  EXPECT_NE(ParseError(R"({"inputs": [[1, 2], [3]], "targets": [[1, 2], [3]]})").find("differ in length"),
            std::string::npos);
  EXPECT_NE(ParseError(R"({"inputs": [[1, 2]], "targets": [[1, 2], [3, 4]]})").find("targets are 2×2"),
            std::string::npos);
  EXPECT_NE(ParseError(R"({"inputs": [[1, 2.5]], "targets": [[1, 2]]})").find("not an integer"),
            std::string::npos);
  EXPECT_NE(ParseError(R"({"inputs": [[]], "targets": [[]]})").find("non-empty"), std::string::npos);
  EXPECT_NE(ParseError(R"({"inputs": [[1, 10]], "targets": [[1, 2]]})").find("inputs[0][1] = 10 is outside"),
            std::string::npos);
  EXPECT_NE(ParseError(R"({"inputs": [[1, 2]], "targets": [[-1, 2]]})").find("targets[0][0] = -1"),
            std::string::npos);
}

ModelConfig MediumConfig() {
  ModelConfig c;
  c.n_layer = 2, c.n_embd = 128, c.n_head = 4, c.head_size = 32, c.n_ffn = 512, c.n_vocab = 256;
  c.lora_ranks = {16, 16, 8, 32};
  return c;
}

Batch SomeBatch(int64_t B, int64_t T, int V) {
  Batch b;
  b.batch = B;
  b.n_tokens = T;
  for (int64_t i = 0; i < B * T; ++i) {
    b.inputs.push_back(static_cast<int>((i * 31 + 7) % V));
    b.targets.push_back(static_cast<int>((i * 17 + 3) % V));
  }
  return b;
}

TEST(GradTest, ThreadsGiveBitIdenticalGradients) {
  auto model = Model::Random(MediumConfig(), "f32", 21);
  ASSERT_TRUE(model.ok()) << model.message();
  const ParamSet params = ParamsFromModel(*model.value());
  const Batch batch = SomeBatch(2, 40, MediumConfig().n_vocab);
  ParamSet one = params.ZerosLike(), two = params.ZerosLike();
  auto l1 = ComputeGradients(params, batch, GradOptions{false, 1, {}, false}, &one);
  auto l2 = ComputeGradients(params, batch, GradOptions{false, 2, {}, false}, &two);
  ASSERT_TRUE(l1.ok() && l2.ok());
  EXPECT_EQ(l1.value(), l2.value());
  for (size_t i = 0; i < one.tensors().size(); ++i) {
    EXPECT_EQ(one.tensors()[i].data, two.tensors()[i].data) << one.tensors()[i].name;
  }
}

TEST(GradTest, RejectsBadBatchAndState) {
  auto model = Model::Random(MediumConfig(), "f32", 22);
  ASSERT_TRUE(model.ok());
  const ParamSet params = ParamsFromModel(*model.value());
  ParamSet grads = params.ZerosLike();
  Batch bad = SomeBatch(1, 4, MediumConfig().n_vocab);
  bad.inputs[2] = 256;
  auto r = ComputeGradients(params, bad, GradOptions{}, &grads);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.message().find("outside the vocabulary"), std::string::npos);
  std::vector<float> state(3), grad;
  auto s = ComputeStateGradient(params, SomeBatch(1, 4, 256), state, GradOptions{}, &grad);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("n_layer·n_head·head_size²"), std::string::npos);
}

std::string TempPath(const std::string& name) {
  return testing::ScratchPath(name);
}

// Training from a block-quantized model (a GGUF people have) starts from its dequantized values:
// the same random draws stored as q8_0 and as f32 differ by q8_0's rounding only: half a step
// (amax/254 of a block) plus the f16 scale's rounding (2⁻¹¹ relative) times at most 127 steps.
TEST(ParamsTest, QuantizedModelGivesItsDequantizedValues) {
  auto quantized = Model::Random(MediumConfig(), "q8_0", 24, WeightLayout::kStored);
  auto exact = Model::Random(MediumConfig(), "f32", 24);
  ASSERT_TRUE(quantized.ok() && exact.ok());
  const ParamSet q = ParamsFromModel(*quantized.value());
  const ParamSet f = ParamsFromModel(*exact.value());
  ASSERT_EQ(q.tensors().size(), f.tensors().size());
  for (size_t i = 0; i < q.tensors().size(); ++i) {
    const NamedTensor<float>& a = q.tensors()[i];
    const NamedTensor<float>& b = f.tensors()[i];
    ASSERT_EQ(a.name, b.name);
    ASSERT_EQ(a.data.size(), b.data.size()) << a.name;
    float amax = 0.0f, worst = 0.0f;
    for (size_t j = 0; j < b.data.size(); ++j) {
      amax = std::max(amax, std::fabs(b.data[j]));
      worst = std::max(worst, std::fabs(a.data[j] - b.data[j]));
    }
    EXPECT_LE(worst, amax * (1.0f / 254.0f + 1.0f / 2048.0f)) << a.name;
  }
}

TEST(GradTest, GradientFilesRoundTrip) {
  auto model = Model::Random(MediumConfig(), "bf16", 23);
  ASSERT_TRUE(model.ok());
  const ParamSet params = ParamsFromModel(*model.value());
  ParamSet grads = params.ZerosLike();
  ASSERT_TRUE(ComputeGradients(params, SomeBatch(2, 5, 256), GradOptions{}, &grads).ok());
  const std::string path = TempPath("grads_roundtrip.pth");
  ASSERT_TRUE(SaveGradients(path, grads).ok());
  auto back = LoadTorchPth(path);
  ASSERT_TRUE(back.ok()) << back.message();
  ASSERT_EQ(back->tensors().size(), grads.tensors().size());
  for (const NamedTensor<float>& g : grads.tensors()) {
    const TensorView* t = back->Find(g.name);
    ASSERT_NE(t, nullptr) << g.name;
    EXPECT_EQ(t->shape, g.shape);
    ASSERT_EQ(t->dtype, DType::kF32);
    EXPECT_EQ(std::memcmp(t->data, g.data.data(), g.data.size() * sizeof(float)), 0) << g.name;
  }

  const ModelConfig& c = params.config();
  std::vector<float> state(static_cast<size_t>(c.n_layer * c.n_head * c.head_size * c.head_size), 0.25f);
  const std::string state_path = TempPath("state_grad.pth");
  ASSERT_TRUE(SaveStateGradient(state_path, state, c).ok());
  auto missing = LoadInitState(state_path, c);  // holds "grad", not "init_state"
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.message().find("no tensor 'init_state'"), std::string::npos);
}

}  // namespace
}  // namespace anser
