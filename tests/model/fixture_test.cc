// Both forward paths against the float64 references of ../shared/fixtures, from the official
// .pth checkpoints and from the Hugging Face folders.
#include <gtest/gtest.h>

#include <map>
#include <tuple>

#include "anser/model.h"
#include "fixtures.h"
#include "kernel_tables.h"
#include "model/weights.h"

namespace anser {
namespace {

using testing::CompareRow;
using testing::Fixture;
using testing::ReadFixture;

struct Source {
  std::string folder;
  std::string checkpoint;  // file in the folder, or "hf"
};

void PrintTo(const Source& s, std::ostream* os) { *os << s.folder << "/" << s.checkpoint; }

// Each fixture on every kernel table this CPU runs: the table is selected before the model
// loads (packing follows the selected table).
class FixtureTest : public ::testing::TestWithParam<std::tuple<std::string, Source>> {
 protected:
  void SetUp() override { ASSERT_TRUE(testing::SelectKernelsNamed(std::get<0>(GetParam()))); }
  void TearDown() override { testing::ResetKernels(); }
  const Source& source() const { return std::get<1>(GetParam()); }
};

std::shared_ptr<const Model> LoadOrDie(const std::string& path) {
  auto m = Model::Load(path);
  EXPECT_TRUE(m.ok()) << m.message();
  return m.ok() ? m.value() : nullptr;
}

// The cases that apply to a checkpoint: those naming it, or (for hf/) the default model's.
std::vector<const testing::FixtureCase*> CasesFor(const Fixture& f, const std::string& checkpoint) {
  std::vector<const testing::FixtureCase*> out;
  const std::string wanted = checkpoint == "hf" ? f.default_model : checkpoint;
  for (const auto& c : f.cases) {
    if (c.model == wanted) out.push_back(&c);
  }
  return out;
}

TEST_P(FixtureTest, StepPathMatchesReference) {
  const Source& src = source();
  const Fixture f = ReadFixture(src.folder);
  auto model = LoadOrDie(f.dir + "/" + src.checkpoint);
  ASSERT_NE(model, nullptr);
  Session session(model);
  const auto cases = CasesFor(f, src.checkpoint);
  ASSERT_FALSE(cases.empty());
  for (const auto* c : cases) {
    State state(model->config());
    size_t row = 0;
    for (size_t t = 0; t < c->tokens.size() && row < c->positions.size(); ++t) {
      auto logits = session.Step(state, c->tokens[t]);
      if (static_cast<int>(t) != c->positions[row]) continue;
      const std::string err = CompareRow(logits.data(), c->logits.data() + row * f.vocab, f.vocab);
      EXPECT_EQ(err, "") << c->name << " position " << t;
      ++row;
    }
    EXPECT_EQ(row, c->positions.size());
  }
}

TEST_P(FixtureTest, SequencePathMatchesReference) {
  const Source& src = source();
  const Fixture f = ReadFixture(src.folder);
  auto model = LoadOrDie(f.dir + "/" + src.checkpoint);
  ASSERT_NE(model, nullptr);
  Session session(model);
  for (const auto* c : CasesFor(f, src.checkpoint)) {
    State state(model->config());
    std::vector<float> logits;
    session.Prefill(state, c->tokens, /*all_positions=*/true, &logits);
    for (size_t row = 0; row < c->positions.size(); ++row) {
      const float* got = logits.data() + static_cast<size_t>(c->positions[row]) * f.vocab;
      EXPECT_EQ(CompareRow(got, c->logits.data() + row * f.vocab, f.vocab), "")
          << c->name << " position " << c->positions[row];
    }
    // The last-position form (the head as one matrix-vector product) meets the reference too.
    State again(model->config());
    std::vector<float> last;
    session.Prefill(again, c->tokens, /*all_positions=*/false, &last);
    ASSERT_EQ(last.size(), static_cast<size_t>(f.vocab));
    if (c->positions.back() + 1 == static_cast<int>(c->tokens.size())) {
      EXPECT_EQ(
          CompareRow(last.data(), c->logits.data() + (c->positions.size() - 1) * f.vocab, f.vocab),
          "")
          << c->name;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(
    Fixtures, FixtureTest,
    ::testing::Combine(::testing::ValuesIn(testing::KernelTableNames()),
                       ::testing::Values(Source{"tiny-rwkv7-834K", "model.fp32.pth"},
                                         Source{"tiny-rwkv7-834K", "model.bf16.pth"},
                                         Source{"tiny-rwkv7-834K", "model.fp16.pth"},
                                         Source{"tiny-rwkv7-834K", "hf"},
                                         Source{"rand-rwkv7-L3-D128-world", "model.bf16.pth"},
                                         Source{"rand-rwkv7-L3-D128-world", "hf"},
                                         Source{"rand-rwkv7-L2-D128-fp32", "model.fp32.pth"})),
    [](const ::testing::TestParamInfo<FixtureTest::ParamType>& p) {
      std::string n = std::get<0>(p.param) + "_" + std::get<1>(p.param).folder + "_" +
                      std::get<1>(p.param).checkpoint;
      for (char& ch : n) {
        if (!isalnum(static_cast<unsigned char>(ch))) ch = '_';
      }
      return n;
    });

TEST(FixtureFormats, PthAndHfLoadTheSameConfiguration) {
  for (const char* folder : {"tiny-rwkv7-834K", "rand-rwkv7-L3-D128-world"}) {
    const Fixture f = ReadFixture(folder);
    auto pth = LoadOrDie(f.dir + "/" + f.default_model);
    auto hf = LoadOrDie(f.dir + "/hf");
    ASSERT_TRUE(pth && hf);
    const ModelConfig& a = pth->config();
    const ModelConfig& b = hf->config();
    EXPECT_EQ(a.n_layer, b.n_layer);
    EXPECT_EQ(a.n_embd, b.n_embd);
    EXPECT_EQ(a.n_head, b.n_head);
    EXPECT_EQ(a.head_size, b.head_size);
    EXPECT_EQ(a.n_ffn, b.n_ffn);
    EXPECT_EQ(a.n_vocab, b.n_vocab);
    EXPECT_EQ(a.lora_ranks.w, b.lora_ranks.w);
    EXPECT_EQ(a.lora_ranks.g, b.lora_ranks.g);
  }
}

TEST(FixtureFormats, WorldModelConfiguration) {
  auto m = LoadOrDie(ReadFixture("rand-rwkv7-L3-D128-world").dir + "/model.bf16.pth");
  ASSERT_NE(m, nullptr);
  const ModelConfig& c = m->config();
  EXPECT_EQ(c.n_layer, 3);
  EXPECT_EQ(c.n_embd, 128);
  EXPECT_EQ(c.n_head, 2);
  EXPECT_EQ(c.head_size, 64);
  EXPECT_EQ(c.n_vocab, 65536);
  EXPECT_EQ(c.lora_ranks.w, 16);
  EXPECT_EQ(c.lora_ranks.a, 16);
  EXPECT_EQ(c.lora_ranks.v, 8);
  EXPECT_EQ(c.lora_ranks.g, 32);
  EXPECT_EQ(m->dtype_counts().at("bf16"), static_cast<int>(m->weights().store().tensors().size()));
}

}  // namespace
}  // namespace anser
