// Anser's own quantizer into the GGML types it writes for llama.cpp (kernels/ggml_quantize.h)
// and `quantize --dtype` with them, against llama-quantize's files of the same model
// (../shared/fixtures/gguf-quants). The fixture keeps no float32 copy of the model: its q8_0 file,
// dequantized, is the source here (q8_0's own error is about a tenth of q4_K's, and a
// fortieth of q2_K's), so llama-quantize's error against it carries that small extra part.
#include "kernels/ggml_quantize.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "anser/model.h"
#include "io/formats.h"
#include "kernels/ggml_dequant.h"
#include "kernels/quantize.h"
#include "model/convert.h"
#include "model/fixtures.h"
#include "model/weights.h"
#include "test_files.h"

namespace anser {
namespace {

const std::string kDir = std::string(ANSER_SHARED_DIR) + "/fixtures/gguf-quants/";

const char* const kLargeMatrices[] = {"token_embd.weight", "output.weight"};
const char* const kLayerMatrices[] = {"time_mix_receptance", "time_mix_key", "time_mix_value",
                                      "time_mix_output", "channel_mix_key", "channel_mix_value"};

std::vector<std::string> LargeMatrixNames() {
  std::vector<std::string> names(std::begin(kLargeMatrices), std::end(kLargeMatrices));
  for (int l = 0; l < 2; ++l) {
    for (const char* m : kLayerMatrices) names.push_back("blk." + std::to_string(l) + "." + m + ".weight");
  }
  return names;
}

// A tensor of a read GGUF as floats, whatever it is stored as.
std::vector<float> Dequantized(const GgufFile& gguf, const std::string& name, int64_t* cols) {
  const TensorView* view = gguf.tensors.Find(name);
  EXPECT_NE(view, nullptr) << name;
  if (view == nullptr) return {};
  *cols = view->shape.back();
  const int64_t rows = view->numel() / *cols;
  std::vector<float> out(static_cast<size_t>(view->numel()));
  const auto converted = gguf.converted.find(name);
  for (int64_t r = 0; r < rows; ++r) {
    float* row = out.data() + r * *cols;
    if (converted != gguf.converted.end()) {
      const size_t row_bytes =
          static_cast<size_t>(*cols / GgmlDequantBlock(converted->second.ggml_type)->elems) *
          GgmlDequantBlock(converted->second.ggml_type)->bytes;
      DequantizeGgmlRow(converted->second.ggml_type, converted->second.stored + r * row_bytes, *cols, row);
    } else {
      DequantizeRow(view->dtype, static_cast<const uint8_t*>(view->data) + r * DTypeRowBytes(view->dtype, *cols),
                    *cols, row);
    }
  }
  return out;
}

struct TypeCase {
  const char* tag;  // llama-quantize's file of this type
  uint32_t type;
};

class GgmlQuantizer : public ::testing::TestWithParam<TypeCase> {};

// Over the 14 large matrices, the squared error of Anser's rows against the source is at most
// that of llama-quantize's.
TEST_P(GgmlQuantizer, ErrsNoMoreThanLlamaQuantize) {
  auto source = LoadGguf(kDir + "model.q8_0.pure.gguf");
  auto llama = LoadGguf(kDir + "model." + std::string(GetParam().tag) + ".gguf");
  ASSERT_TRUE(source.ok() && llama.ok());
  const uint32_t type = GetParam().type;
  ASSERT_TRUE(GgmlQuantizable(type));
  const GgmlBlock block = *GgmlDequantBlock(type);
  double ours = 0, theirs = 0;
  for (const std::string& name : LargeMatrixNames()) {
    int64_t cols = 0;
    const std::vector<float> x = Dequantized(*source, name, &cols);
    const std::vector<float> y_llama = Dequantized(*llama, name, &cols);
    ASSERT_EQ(x.size(), y_llama.size()) << name;
    std::vector<uint8_t> row(static_cast<size_t>(cols / block.elems) * block.bytes);
    std::vector<float> y(static_cast<size_t>(cols));
    for (size_t r = 0; r < x.size() / static_cast<size_t>(cols); ++r) {
      const float* xr = x.data() + r * cols;
      QuantizeGgmlRow(type, xr, cols, nullptr, row.data());
      DequantizeGgmlRow(type, row.data(), cols, y.data());
      for (int64_t c = 0; c < cols; ++c) {
        ours += (y[c] - xr[c]) * static_cast<double>(y[c] - xr[c]);
        const double d = y_llama[r * cols + c] - xr[c];
        theirs += d * d;
      }
    }
  }
  std::printf("%-12s rms error, Anser / llama-quantize: %.4f\n", GetParam().tag, std::sqrt(ours / theirs));
  EXPECT_LE(ours, theirs);
  EXPECT_GT(ours, 0.0);
}

INSTANTIATE_TEST_SUITE_P(Types, GgmlQuantizer,
                         ::testing::Values(TypeCase{"q2_k.pure", kGgmlQ2_K}, TypeCase{"q3_k.pure", kGgmlQ3_K},
                                           TypeCase{"q4_k.pure", kGgmlQ4_K}, TypeCase{"q5_k.pure", kGgmlQ5_K},
                                           TypeCase{"q6_k.pure", kGgmlQ6_K}, TypeCase{"iq4_nl.pure", kGgmlIq4Nl},
                                           TypeCase{"iq4_xs.pure", kGgmlIq4Xs}, TypeCase{"q5_1.pure", kGgmlQ5_1}),
                         [](const ::testing::TestParamInfo<TypeCase>& c) {
                           std::string name = c.param.tag;
                           return name.substr(0, name.find('.'));
                         });

// Weights that count for nothing may be sacrificed: an importance of zero on half the columns
// lowers the error on the other half.
TEST(GgmlQuantizerImportance, SteersTheErrorToTheColumnsThatMatter) {
  std::vector<float> x(256), plain(256), steered(256), importance(256);
  for (int i = 0; i < 256; ++i) {
    x[i] = std::sin(0.37f * static_cast<float>(i)) * (1.0f + static_cast<float>(i % 7));
    importance[i] = i % 2 == 0 ? 1.0f : 0.0f;
  }
  std::vector<uint8_t> row(144);
  QuantizeGgmlRow(kGgmlQ4_K, x.data(), 256, nullptr, row.data());
  DequantizeGgmlRow(kGgmlQ4_K, row.data(), 256, plain.data());
  QuantizeGgmlRow(kGgmlQ4_K, x.data(), 256, importance.data(), row.data());
  DequantizeGgmlRow(kGgmlQ4_K, row.data(), 256, steered.data());
  double e_plain = 0, e_steered = 0;
  for (int i = 0; i < 256; i += 2) {
    e_plain += (plain[i] - x[i]) * (plain[i] - x[i]);
    e_steered += (steered[i] - x[i]) * (steered[i] - x[i]);
  }
  EXPECT_LT(e_steered, e_plain);
}

// Columns the calibration text never reached (importance 0 throughout a block) are rounded as
// without a matrix, not flattened to zero.
TEST(GgmlQuantizerImportance, UnreachedColumnsKeepTheirValues) {
  std::vector<float> x(256), plain(256), unreached(256), zeros(256, 0.0f);
  for (int i = 0; i < 256; ++i) x[i] = std::cos(0.21f * static_cast<float>(i)) * 0.3f;
  std::vector<uint8_t> row(210);
  QuantizeGgmlRow(kGgmlQ6_K, x.data(), 256, nullptr, row.data());
  DequantizeGgmlRow(kGgmlQ6_K, row.data(), 256, plain.data());
  QuantizeGgmlRow(kGgmlQ6_K, x.data(), 256, zeros.data(), row.data());
  DequantizeGgmlRow(kGgmlQ6_K, row.data(), 256, unreached.data());
  EXPECT_EQ(unreached, plain);
}

// The logits of a model over the fixture's cases for the q8_0 file, against that file's
// reference logits: rms of the deviation in units of each reference row's standard deviation.
double RmsDeviation(const std::shared_ptr<const Model>& model) {
  const testing::Fixture fixture = testing::ReadFixture("gguf-quants");
  const int V = fixture.vocab;
  testing::LogitDeviation deviation;
  for (const testing::FixtureCase& c : fixture.cases) {
    if (c.model != "model.q8_0.pure.gguf") continue;
    Session session(model, {0});
    State state(model->config());
    std::vector<float> logits;
    session.Prefill(state, c.tokens, true, &logits);
    for (size_t i = 0; i < c.positions.size(); ++i) {
      deviation.AddRow(logits.data() + static_cast<size_t>(c.positions[i]) * V, c.logits.data() + i * V, V);
    }
  }
  EXPECT_GT(deviation.rows(), 0);
  return deviation.rms();
}

// Anser's Q4_K_M of the model is llama-quantize's mix (q4_K matrices, q6_K head, float32
// LoRA), loads and runs, and its logits are as close to the source's as those of
// llama-quantize's Q4_K_M file by the fixture README's bar (rms deviation ≤ 1.25×). On one
// small model the deviation moves by several per cent with any change of rounding, so the
// quantizers' own comparison is the weights' error above.
TEST(GgmlQuantizeMix, Q4_K_MIsLlamaQuantizesMixAndAsClose) {
  auto source = Model::Load(kDir + "model.q8_0.pure.gguf", WeightLayout::kStored);
  ASSERT_TRUE(source.ok()) << source.message();
  ConvertOptions options;
  options.ggml_target = ParseGgmlTarget("q4_k_m");
  ASSERT_TRUE(options.ggml_target.has_value());
  std::vector<std::string> notices;
  options.notice = [&notices](const std::string& m) { notices.push_back(m); };
  const std::string path = testing::ScratchPath("anser.Q4_K_M.gguf");
  ASSERT_TRUE(SaveModel(**source, path, options).ok());
  EXPECT_TRUE(notices.empty());

  const auto gguf = LoadGguf(path);
  ASSERT_TRUE(gguf.ok()) << gguf.message();
  EXPECT_EQ(gguf->metadata.Find("general.file_type")->u, 15u);
  for (const std::string& name : LargeMatrixNames()) {
    EXPECT_EQ(gguf->converted.count(name), 0u) << name;  // q4_K and q6_K run as stored
    ASSERT_NE(gguf->tensors.Find(name), nullptr) << name;
    EXPECT_EQ(gguf->tensors.Find(name)->dtype, name == "output.weight" ? DType::kQ6_K : DType::kQ4_K)
        << name;
  }
  EXPECT_EQ(gguf->tensors.Find("blk.1.time_mix_w1.weight")->dtype, DType::kF32);

  auto ours = Model::Load(path);
  auto llama = Model::Load(kDir + "model.Q4_K_M.gguf");
  ASSERT_TRUE(ours.ok() && llama.ok());
  const double ours_dev = RmsDeviation(*ours), llama_dev = RmsDeviation(*llama);
  std::printf("Q4_K_M logits rms deviation from the q8_0 source: Anser %.4f, llama-quantize %.4f\n", ours_dev,
              llama_dev);
  EXPECT_LE(ours_dev, 1.25 * llama_dev);
}

// Rows that q4_K's 256-element blocks do not divide fall back to q5_0, as llama-quantize does,
// and the writer says so.
TEST(GgmlQuantizeMix, FallsBackWhereBlocksDoNotFit) {
  const testing::Fixture tiny = testing::ReadFixture("tiny-rwkv7-834K");
  auto model = Model::Load(tiny.dir + "/" + tiny.default_model, WeightLayout::kStored);
  ASSERT_TRUE(model.ok()) << model.message();
  ConvertOptions options;
  options.ggml_target = ParseGgmlTarget("Q4_K");
  std::vector<std::string> notices;
  options.notice = [&notices](const std::string& m) { notices.push_back(m); };
  const std::string path = testing::ScratchPath("tiny.q4_K.gguf");
  ASSERT_TRUE(SaveModel(**model, path, options).ok());
  ASSERT_FALSE(notices.empty());
  EXPECT_NE(notices[0].find("q5_0"), std::string::npos) << notices[0];
  const auto gguf = LoadGguf(path);
  ASSERT_TRUE(gguf.ok()) << gguf.message();
  EXPECT_EQ(gguf->tensors.Find("blk.0.time_mix_key.weight")->dtype, DType::kQ5_0);
  EXPECT_TRUE(Model::Load(path).ok());
}

// Random weights in a llama.cpp type (what `bench --shape S --dtype Q4_K_M` runs) are stored as
// loading such a file stores them: q4_K matrices and the q6_K head as they are, LoRA as bf16, and
// rows that 256 does not divide at the fallback (here the 128-wide FFN value: q5_0).
TEST(GgmlQuantizeMix, RandomWeightsRunAsTheLoadedFileWould) {
  ModelConfig c;
  c.n_layer = 1, c.n_embd = 256, c.n_head = 4, c.head_size = 64, c.n_ffn = 128, c.n_vocab = 300;
  c.lora_ranks = {32, 32, 16, 32};
  auto model = Model::Random(c, "q4_k_m", 1, WeightLayout::kStored);
  ASSERT_TRUE(model.ok()) << model.message();
  const TensorStore& store = (*model)->weights().store();
  EXPECT_EQ(store.Find("blocks.0.att.key.weight")->dtype, DType::kQ4_K);
  EXPECT_EQ(store.Find("head.weight")->dtype, DType::kQ6_K);
  EXPECT_EQ(store.Find("emb.weight")->dtype, DType::kQ4_K);
  EXPECT_EQ(store.Find("blocks.0.ffn.value.weight")->dtype, DType::kQ5_0);
  EXPECT_EQ(store.Find("blocks.0.att.w1")->dtype, DType::kBF16);
  Session session(*model, {1});
  State state(c);
  std::vector<float> logits;
  session.Prefill(state, std::vector<int>{1, 2, 3}, false, &logits);
  for (float x : logits) ASSERT_TRUE(std::isfinite(x));
  EXPECT_FALSE(Model::Random(c, "iq2_xxs", 1).ok());
}

TEST(GgmlTargetNames, AreCaseInsensitiveAndQ2_KIsTheMix) {
  EXPECT_EQ(ParseGgmlTarget("Q4_K_M")->name, "Q4_K_M");
  EXPECT_EQ(ParseGgmlTarget("q4_k_m")->name, "Q4_K_M");
  EXPECT_EQ(ParseGgmlTarget("IQ4_XS")->base, kGgmlIq4Xs);
  EXPECT_FALSE(ParseGgmlTarget("q4_K")->head.has_value());
  EXPECT_EQ(ParseGgmlTarget("q2_K")->head, kGgmlQ6_K);
  EXPECT_FALSE(ParseGgmlTarget("iq2_xxs").has_value());
  EXPECT_FALSE(ParseGgmlTarget("q8_0").has_value());  // a type Anser runs: ParseConvertDType's
}

}  // namespace
}  // namespace anser
