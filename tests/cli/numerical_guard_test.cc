// Numerical guards: `anser check` finds every damaged tensor of a model and nothing in a sound
// one; a generation whose logits stop being finite ends with exit status 3 and an error naming
// the first layer and quantity where a non-finite value appears.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "io/formats.h"
#include "run_anser.h"
#include "test_files.h"

namespace anser {
namespace {

namespace fs = std::filesystem;

const std::string kTiny =
    std::string(ANSER_SHARED_DIR) + "/fixtures/tiny-rwkv7-834K/model.fp32.pth";

class NumericalGuard : public anser::testing::FreshDirTest {
 protected:
  testing::RunOutcome Run(const std::vector<std::string>& args) {
    return testing::RunAnser(args, dir_.string());
  }

  // The tiny fixture model with value [1] of each named tensor replaced.
  std::string Damaged(const std::vector<std::pair<std::string, float>>& changes) {
    return testing::WriteDamagedCopy(kTiny, (dir_ / "damaged.pth").string(), changes);
  }

};

TEST_F(NumericalGuard, CheckPassesASoundModel) {
  const auto r = Run({"check", "-m", kTiny, "--format", "json"});
  EXPECT_EQ(r.code, 0) << r.err;
  const nlohmann::json j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j.at("findings"), 0);
  ASSERT_GT(j.at("tensors").size(), 300u);
  for (const auto& t : j.at("tensors")) {
    EXPECT_EQ(t.at("nan"), 0) << t;
    EXPECT_EQ(t.at("inf"), 0) << t;
    EXPECT_LT(t.at("max_abs").get<double>(), 1e4) << t;
    EXPECT_EQ(t.at("dtype"), "f32") << t;
  }
}

TEST_F(NumericalGuard, CheckReportsEveryDamagedTensorAndExits1) {
  const float nan = std::numeric_limits<float>::quiet_NaN(),
              inf = std::numeric_limits<float>::infinity();
  const std::string model = Damaged({{"blocks.1.ffn.value.weight", nan},
                                     {"head.weight", -inf},
                                     {"blocks.0.att.key.weight", 2e4f},
                                     {"emb.weight", 5e5f}});  // within the embedding's 1e6
  const auto r = Run({"check", "-m", model, "--format", "json"});
  EXPECT_EQ(r.code, 1) << r.err;
  const nlohmann::json j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j.at("findings"), 3);
  std::map<std::string, nlohmann::json> by_name;
  for (const auto& t : j.at("tensors")) by_name[t.at("name")] = t;
  EXPECT_EQ(by_name.at("blocks.1.ffn.value.weight").at("nan"), 1);
  EXPECT_EQ(by_name.at("head.weight").at("inf"), 1);
  EXPECT_EQ(by_name.at("blocks.0.att.key.weight").at("max_abs"), 2e4);
  EXPECT_EQ(by_name.at("emb.weight").at("max_abs"), 5e5);
  EXPECT_EQ(by_name.at("emb.weight").at("nan"), 0);
  const auto text = Run({"check", "-m", model});
  EXPECT_EQ(text.code, 1);
  EXPECT_NE(text.out.find("with findings"), std::string::npos) << text.out;
}

TEST_F(NumericalGuard, NonFiniteLogitsStopGenerationWithStatus3) {
  const std::string model =
      Damaged({{"blocks.1.ffn.value.weight", std::numeric_limits<float>::quiet_NaN()}});
  const auto r = Run({"generate", "-m", model, "-p", "ROMEO:", "-n", "5", "--seed", "1"});
  EXPECT_EQ(r.code, 3) << r.err;
  EXPECT_NE(r.err.find("non-finite logits"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("the first non-finite value is in layer 1, ffn output (W_v_ffn·hidden)"),
            std::string::npos)
      << r.err;
}

TEST_F(NumericalGuard, InfiniteEmbeddingIsFoundBeforeTheFirstLayer) {
  // Token 'R' (82) is the first of the prompt: its embedding row holds the infinity.
  auto store = LoadTorchPth(kTiny);
  ASSERT_TRUE(store.ok());
  const int64_t width = store->Find("emb.weight")->shape[1];
  std::vector<float> emb(static_cast<const float*>(store->Find("emb.weight")->data),
                         static_cast<const float*>(store->Find("emb.weight")->data) + 256 * width);
  emb[static_cast<size_t>('R' * width)] = std::numeric_limits<float>::infinity();
  std::vector<TensorView> views = store->tensors();
  for (TensorView& v : views) {
    if (v.name == "emb.weight") v.data = emb.data();
  }
  const std::string path = (dir_ / "emb.pth").string();
  ASSERT_TRUE(SaveTorchPth(path, views).ok());
  const auto r = Run({"generate", "-m", path, "-p", "R", "-n", "3"});
  EXPECT_EQ(r.code, 3) << r.err;
  EXPECT_NE(r.err.find("the first non-finite value is in the embedding, embedding (after ln0)"),
            std::string::npos)
      << r.err;
}

TEST_F(NumericalGuard, SoundModelGeneratesWithStatus0) {
  const auto r = Run({"generate", "-m", kTiny, "-p", "ROMEO:", "-n", "5", "--seed", "1"});
  EXPECT_EQ(r.code, 0) << r.err;
}

}  // namespace
}  // namespace anser
