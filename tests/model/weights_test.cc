// Validation of checkpoints: configuration from shapes, and a clear error for every defect.
#include <gtest/gtest.h>

#include "anser/model.h"
#include "model/random_store.h"
#include "model/weights.h"

namespace anser {
namespace {

ModelConfig Small() {
  ModelConfig c;
  c.n_layer = 2, c.n_embd = 32, c.n_head = 2, c.head_size = 16, c.n_ffn = 96, c.n_vocab = 50;
  c.lora_ranks = {8, 4, 6, 10};
  return c;
}

TensorStore SmallStore() {
  auto s = RandomStore(Small(), "f32", 1);
  EXPECT_TRUE(s.ok());
  return std::move(s).value();
}

// A copy of `store` with `edit` applied to its views (data still owned by `store`).
TensorStore Edited(const TensorStore& store, const std::function<void(std::vector<TensorView>&)>& edit) {
  std::vector<TensorView> views = store.tensors();
  edit(views);
  TensorStore out("edited.pth");
  for (auto& v : views) out.Add(v);
  return out;
}

std::string BuildError(TensorStore store) {
  auto w = Weights::Build(std::move(store), WeightLayout::kStored);
  return w.ok() ? "" : w.message();
}

TEST(WeightsTest, ConfigurationComesFromTheShapes) {
  auto w = Weights::Build(SmallStore(), WeightLayout::kStored);
  ASSERT_TRUE(w.ok()) << w.message();
  const ModelConfig& c = w.value()->config();
  const ModelConfig e = Small();
  EXPECT_EQ(c.n_layer, e.n_layer);
  EXPECT_EQ(c.n_embd, e.n_embd);
  EXPECT_EQ(c.n_head, e.n_head);
  EXPECT_EQ(c.head_size, e.head_size);
  EXPECT_EQ(c.n_ffn, e.n_ffn);
  EXPECT_EQ(c.n_vocab, e.n_vocab);
  EXPECT_EQ(c.lora_ranks.w, 8);
  EXPECT_EQ(c.lora_ranks.a, 4);
  EXPECT_EQ(c.lora_ranks.v, 6);
  EXPECT_EQ(c.lora_ranks.g, 10);
}

TEST(WeightsTest, RandomModelCountsOfficialParameters) {
  auto m = Model::Random(Small(), "bf16", 3);
  ASSERT_TRUE(m.ok()) << m.message();
  EXPECT_EQ(m.value()->params(), CountParams(Small()));
  EXPECT_EQ(m.value()->weight_bytes(), 2 * CountParams(Small()));
}

TEST(WeightsTest, OfficialShapesHaveOfficialCounts) {
  const std::pair<const char*, int64_t> expected[] = {
      {"0.1b", 191084544}, {"0.4b", 450834432}, {"1.5b", 1527668736}, {"2.9b", 2948065280}};
  for (const auto& [name, params] : expected) {
    auto c = OfficialShape(name);
    ASSERT_TRUE(c.ok());
    EXPECT_EQ(CountParams(c.value()), params) << name;
  }
  EXPECT_FALSE(OfficialShape("7b").ok());
}

TEST(WeightsTest, MissingTensorIsNamed) {
  const std::string err = BuildError(Edited(SmallStore(), [](auto& v) {
    std::erase_if(v, [](const TensorView& t) { return t.name == "blocks.1.att.k_a"; });
  }));
  EXPECT_NE(err.find("'blocks.1.att.k_a'"), std::string::npos) << err;
  EXPECT_NE(err.find("missing"), std::string::npos) << err;
}

TEST(WeightsTest, WrongShapeNamesBothShapes) {
  const std::string err = BuildError(Edited(SmallStore(), [](auto& v) {
    for (auto& t : v) {
      if (t.name == "blocks.1.att.w1") t.shape = {8, 32};
    }
  }));
  EXPECT_NE(err.find("'blocks.1.att.w1'"), std::string::npos) << err;
  EXPECT_NE(err.find("expected (32, 8)"), std::string::npos) << err;
  EXPECT_NE(err.find("got (8, 32)"), std::string::npos) << err;
}

TEST(WeightsTest, UnexpectedTensorIsNamed) {
  const std::string err = BuildError(Edited(SmallStore(), [](auto& v) {
    TensorView extra = v.front();
    extra.name = "blocks.0.att.surprise";
    v.push_back(extra);
  }));
  EXPECT_NE(err.find("unexpected tensor 'blocks.0.att.surprise'"), std::string::npos) << err;
}

TEST(WeightsTest, VariantsAreNamed) {
  const std::pair<const char*, const char*> cases[] = {{"blocks.0.ffn.s_emb.weight", "DeepEmbed"},
                                                       {"blocks.0.att.qq.weight", "DEA"},
                                                       {"blocks.0.att.time_decay", "older RWKV"}};
  for (const auto& [name, variant] : cases) {
    const std::string err = BuildError(Edited(SmallStore(), [n = name](auto& v) {
      TensorView extra = v.front();
      extra.name = n;
      v.push_back(extra);
    }));
    EXPECT_NE(err.find(variant), std::string::npos) << err;
  }
}

TEST(WeightsTest, NonRwkvStateDictIsRefused) {
  const std::string err = BuildError(Edited(SmallStore(), [](auto& v) {
    std::erase_if(v, [](const TensorView& t) { return t.name.find("r_k") != std::string::npos; });
  }));
  EXPECT_NE(err.find("not an RWKV-7 checkpoint"), std::string::npos) << err;
}

TEST(WeightsTest, LayerZeroMayOmitValueResidual) {
  const std::string err = BuildError(Edited(SmallStore(), [](auto& v) {
    std::erase_if(v, [](const TensorView& t) {
      return t.name == "blocks.0.att.v0" || t.name == "blocks.0.att.v1" || t.name == "blocks.0.att.v2";
    });
  }));
  EXPECT_EQ(err, "");
}

TEST(WeightsTest, VectorsMayBeFlat) {
  const std::string err = BuildError(Edited(SmallStore(), [](auto& v) {
    for (auto& t : v) {
      if (t.shape.size() == 3) t.shape = {t.shape[2]};
    }
  }));
  EXPECT_EQ(err, "");
}

TEST(WeightsTest, HfNamesMapToOfficial) {
  // Rename an official store to fla-hub names, transpose LoRA, and map it back.
  TensorStore official = SmallStore();
  auto mapped = HfToOfficial(Edited(official, [](auto& v) {
    for (auto& t : v) {
      if (t.name == "emb.weight") t.name = "model.embeddings.weight";
      if (t.name == "head.weight") t.name = "lm_head.weight";
    }
  }));
  ASSERT_TRUE(mapped.ok());
  EXPECT_NE(mapped.value().Find("emb.weight"), nullptr);
  EXPECT_NE(mapped.value().Find("head.weight"), nullptr);
}

}  // namespace
}  // namespace anser
