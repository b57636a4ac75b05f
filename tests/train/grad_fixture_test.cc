// Loss and gradients against ../shared/fixtures/train-grad-tiny (float64 autograd of the
// official x070 formulas on the tiny 12-layer model), and the training forward against the
// inference forward.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <sstream>

#include <nlohmann/json.hpp>

#include "anser/model.h"
#include "io/formats.h"
#include "kernels/kernels.h"
#include "train/grad.h"

namespace anser {
namespace {

const std::string kDir = std::string(ANSER_SHARED_DIR) + "/fixtures/train-grad-tiny";

nlohmann::json ReadCase() {
  std::ifstream in(kDir + "/case.json");
  return nlohmann::json::parse(in);
}

// The tensor kind of a parameter name: "blocks.3.att.w1" → "att.w1".
std::string Kind(const std::string& name) {
  if (name.rfind("blocks.", 0) != 0) return name;
  return name.substr(name.find('.', 7) + 1);
}

float At(const TensorView& t, int64_t i) {
  float v;
  std::memcpy(&v, static_cast<const uint8_t*>(t.data) + i * 4, 4);
  return v;
}

// ‖g − ref‖ / ‖ref‖ (‖g‖ when the reference is all zeros).
double RelError(const float* g, const TensorView& ref) {
  double diff = 0, norm = 0;
  for (int64_t i = 0; i < ref.numel(); ++i) {
    const double r = At(ref, i);
    diff += (g[i] - r) * (g[i] - r);
    norm += r * r;
  }
  return norm == 0 ? std::sqrt(diff) : std::sqrt(diff / norm);
}

TEST(GradFixtureTest, LossAndEveryGradientMatchFloat64Autograd) {
  const nlohmann::json c = ReadCase();
  auto params = LoadParams(kDir + "/" + c.at("model").get<std::string>());
  ASSERT_TRUE(params.ok()) << params.message();
  auto batch = ReadBatchJson(kDir + "/case.json");
  ASSERT_TRUE(batch.ok()) << batch.message();
  ParamSet grads = params->ZerosLike();
  auto loss = ComputeGradients(params.value(), batch.value(), GradOptions{false, 2, {}, false}, &grads);
  ASSERT_TRUE(loss.ok()) << loss.message();
  const double ref_loss = c.at("loss").get<double>();
  EXPECT_LE(std::abs(loss.value() - ref_loss), 1e-5 * ref_loss) << loss.value() << " vs " << ref_loss;

  auto ref = LoadTorchPth(kDir + "/grads.fp32.pth");
  ASSERT_TRUE(ref.ok()) << ref.message();
  ASSERT_EQ(ref->tensors().size(), grads.tensors().size());
  std::map<std::string, double> worst;
  for (const NamedTensor<float>& g : grads.tensors()) {
    const TensorView* r = ref->Find(g.name);
    ASSERT_NE(r, nullptr) << g.name;
    ASSERT_EQ(r->shape, g.shape) << g.name;
    ASSERT_EQ(r->dtype, DType::kF32) << g.name;
    const double e = RelError(g.data.data(), *r);
    EXPECT_LE(e, 1e-3) << g.name;
    worst[Kind(g.name)] = std::max(worst[Kind(g.name)], e);
  }
  std::ostringstream report;
  for (const auto& [kind, e] : worst) report << kind << " " << e << "\n";
  RecordProperty("worst_relative_error", report.str());
  std::cout << "worst ‖g−g_ref‖/‖g_ref‖ per tensor kind:\n" << report.str();
}

// --precision bf16 on every table that has bfloat16 products (the reference everywhere): the
// loss and gradients stay near the float64 reference, as bfloat16's 8-bit mantissa allows, and
// move off the float32 ones (the rounding is applied). A table without them is refused.
TEST(GradFixtureTest, Bf16ProductsStayNearTheReference) {
  const nlohmann::json c = ReadCase();
  auto params = LoadParams(kDir + "/" + c.at("model").get<std::string>());
  ASSERT_TRUE(params.ok()) << params.message();
  auto batch = ReadBatchJson(kDir + "/case.json");
  ASSERT_TRUE(batch.ok()) << batch.message();
  auto ref = LoadTorchPth(kDir + "/grads.fp32.pth");
  ASSERT_TRUE(ref.ok()) << ref.message();
  const double ref_loss = c.at("loss").get<double>();
  for (const CpuKernels* table : AllKernels()) {
    SCOPED_TRACE(table->name);
    SelectKernelsForTesting(table);
    ParamSet grads = params->ZerosLike();
    auto loss =
        ComputeGradients(params.value(), batch.value(), GradOptions{false, 2, {}, true}, &grads);
    if (table->bf16_products == nullptr) {
      EXPECT_FALSE(loss.ok());
      continue;
    }
    ASSERT_TRUE(loss.ok()) << loss.message();
    EXPECT_LE(std::abs(loss.value() - ref_loss), 1e-3 * ref_loss);
    EXPECT_GT(std::abs(loss.value() - ref_loss), 1e-7 * ref_loss);
    double worst = 0;
    for (const NamedTensor<float>& g : grads.tensors()) {
      const double e = RelError(g.data.data(), *ref->Find(g.name));
      worst = std::max(worst, e);
    }
    EXPECT_LE(worst, 0.05);
    std::cout << table->name << " --precision bf16: loss " << loss.value() << " (reference "
              << ref_loss << "), worst ‖g−g_ref‖/‖g_ref‖ " << worst << "\n";
    EXPECT_GT(worst, 1e-3);
  }
  SelectKernelsForTesting(nullptr);
}

TEST(GradFixtureTest, StateTuningGradientMatchesFloat64Autograd) {
  const nlohmann::json c = ReadCase();
  auto params = LoadParams(kDir + "/" + c.at("model").get<std::string>());
  ASSERT_TRUE(params.ok()) << params.message();
  auto batch = ReadBatchJson(kDir + "/case.json");
  ASSERT_TRUE(batch.ok()) << batch.message();
  const std::string file = kDir + "/" + c.at("state_tuning").at("file").get<std::string>();
  auto init = LoadInitState(file, params->config());
  ASSERT_TRUE(init.ok()) << init.message();
  std::vector<float> grad;
  auto loss = ComputeStateGradient(params.value(), batch.value(), init.value(), GradOptions{false, 2, {}, false}, &grad);
  ASSERT_TRUE(loss.ok()) << loss.message();
  const double ref_loss = c.at("state_tuning").at("loss").get<double>();
  EXPECT_LE(std::abs(loss.value() - ref_loss), 1e-5 * ref_loss) << loss.value() << " vs " << ref_loss;
  auto ref = LoadTorchPth(file);
  ASSERT_TRUE(ref.ok()) << ref.message();
  const TensorView* r = ref->Find("grad");
  ASSERT_NE(r, nullptr);
  ASSERT_EQ(r->numel(), static_cast<int64_t>(grad.size()));
  const double e = RelError(grad.data(), *r);
  EXPECT_LE(e, 1e-3);
  std::cout << "state-tuning ‖g−g_ref‖/‖g_ref‖ = " << e << "\n";
}

// Max |Δ| ≤ 1e-4·std(reference row), the fixtures' rule for float32 forward paths.
void ExpectSameLogits(const float* got, const float* ref, int64_t V, const std::string& what) {
  double mean = 0, var = 0, worst = 0;
  for (int64_t i = 0; i < V; ++i) mean += ref[i];
  mean /= static_cast<double>(V);
  for (int64_t i = 0; i < V; ++i) var += (ref[i] - mean) * (ref[i] - mean);
  const double sd = std::sqrt(var / static_cast<double>(V));
  for (int64_t i = 0; i < V; ++i) worst = std::max(worst, static_cast<double>(std::abs(got[i] - ref[i])));
  EXPECT_LE(worst, 1e-4 * sd) << what;
}

// The training forward (all B·T rows at once) ≡ the inference sequence path, per sequence.
void CompareWithSession(const std::shared_ptr<const Model>& model, int64_t B, int64_t T) {
  const ParamSet params = ParamsFromModel(*model);
  const int V = model->config().n_vocab;
  Batch batch;
  batch.batch = B;
  batch.n_tokens = T;
  for (int64_t i = 0; i < B * T; ++i) batch.inputs.push_back(static_cast<int>((i * 7919 + 13) % V));
  batch.targets = batch.inputs;
  auto logits = TrainForwardLogits(params, batch, 2);
  ASSERT_TRUE(logits.ok()) << logits.message();
  Session session(model);
  for (int64_t b = 0; b < B; ++b) {
    State state(model->config());
    std::vector<float> ref;
    session.Prefill(state, std::span<const int>(batch.inputs.data() + b * T, static_cast<size_t>(T)), true, &ref);
    for (int64_t t = 0; t < T; ++t) {
      ExpectSameLogits(logits->data() + (b * T + t) * V, ref.data() + t * V, V,
                       "sequence " + std::to_string(b) + " token " + std::to_string(t));
    }
  }
}

TEST(GradFixtureTest, TrainingForwardMatchesInferenceOnTinyModel) {
  auto model = Model::Load(std::string(ANSER_SHARED_DIR) + "/fixtures/tiny-rwkv7-834K/model.fp32.pth");
  ASSERT_TRUE(model.ok()) << model.message();
  CompareWithSession(model.value(), 2, 37);
}

TEST(GradFixtureTest, TrainingForwardMatchesInferenceOnRandomMultiHeadModel) {
  ModelConfig c;
  c.n_layer = 2, c.n_embd = 64, c.n_head = 2, c.head_size = 32, c.n_ffn = 128, c.n_vocab = 97;
  c.lora_ranks = {8, 8, 4, 12};
  auto model = Model::Random(c, "f32", 7);
  ASSERT_TRUE(model.ok()) << model.message();
  CompareWithSession(model.value(), 3, 21);
}

// Training and inference implement the switches separately (the training forward replaces
// parameters and scales the removal term per batch; the inference forward transforms the
// weights at load): they must agree on every switch.
TEST(GradFixtureTest, TrainingForwardMatchesInferenceForEverySwitch) {
  for (const auto& [ablate, mult] : std::vector<std::pair<std::string, double>>{
           {"delta", 1.0}, {"", 2.0}, {"scalar-decay", 1.0}, {"scalar-iclr", 1.0},
           {"shared-keys", 1.0}, {"no-bonus", 1.0}, {"scalar-decay,scalar-iclr,shared-keys,no-bonus", 1.5}}) {
    SCOPED_TRACE(ablate + " x" + std::to_string(mult));
    ModelConfig c;
    c.n_layer = 2, c.n_embd = 64, c.n_head = 4, c.head_size = 16, c.n_ffn = 128, c.n_vocab = 97;
    c.lora_ranks = {8, 8, 4, 12};
    c.variant = ParseModelVariant(ablate, mult).value();
    auto model = Model::Random(c, "f32", 9);
    ASSERT_TRUE(model.ok()) << model.message();
    ASSERT_EQ(model.value()->config().variant, c.variant);
    CompareWithSession(model.value(), 2, 21);
  }
}

}  // namespace
}  // namespace anser
