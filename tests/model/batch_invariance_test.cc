// What a server batching requests and caching prefix states rests on, on every kernel table
// this CPU runs: a sequence's logits and state are bitwise the same whatever else is in its
// batch, however its prompt is split into Prefill calls, and by Step token by token.
#include <gtest/gtest.h>

#include <cstring>
#include <functional>
#include <random>
#include <tuple>

#include "anser/model.h"
#include "fixtures.h"
#include "kernels/kernels.h"

namespace anser {
namespace {

struct ModelSource {
  std::string name;
  std::function<std::shared_ptr<const Model>()> load;
};

void PrintTo(const ModelSource& s, std::ostream* os) { *os << s.name; }

std::shared_ptr<const Model> Fixture(const std::string& folder, const std::string& file) {
  auto m = Model::Load(testing::SharedDir() + "/fixtures/" + folder + "/" + file);
  EXPECT_TRUE(m.ok()) << m.message();
  return m.ok() ? m.value() : nullptr;
}

// Random weights stored as `dtype`. The vocabulary (the head's rows) is not a multiple of the
// 8-row tiles, so the head has rows left over.
std::shared_ptr<const Model> Random(const std::string& dtype) {
  ModelConfig c;
  c.n_layer = 2;
  c.n_embd = 128;
  c.n_head = 2;
  c.head_size = 64;
  c.n_ffn = 448;
  c.n_vocab = 300;
  c.lora_ranks = {16, 16, 8, 32};
  auto m = Model::Random(c, dtype, 7);
  EXPECT_TRUE(m.ok()) << m.message();
  return m.ok() ? m.value() : nullptr;
}

std::vector<ModelSource> Sources() {
  std::vector<ModelSource> s = {
      {"tiny_fp32", [] { return Fixture("tiny-rwkv7-834K", "model.fp32.pth"); }},
      {"world_bf16", [] { return Fixture("rand-rwkv7-L3-D128-world", "model.bf16.pth"); }},
      {"fp32", [] { return Fixture("rand-rwkv7-L2-D128-fp32", "model.fp32.pth"); }},
  };
  for (const char* dtype : {"f16", "q8_0", "q5_0", "q4_0", "q4_1"}) {
    s.push_back({std::string("random_") + dtype, [dtype] { return Random(dtype); }});
  }
  return s;
}

std::vector<std::string> TableNames() {
  std::vector<std::string> names;
  for (const CpuKernels* k : AllKernels()) names.emplace_back(k->name);
  return names;
}

std::vector<int> RandomTokens(int n, int vocab, unsigned seed) {
  std::mt19937 rng(seed);
  std::vector<int> t(static_cast<size_t>(n));
  for (int& x : t) x = static_cast<int>(rng() % static_cast<unsigned>(vocab));
  return t;
}

bool SameBits(const float* a, const float* b, int64_t n) {
  return std::memcmp(a, b, static_cast<size_t>(n) * sizeof(float)) == 0;
}

// Bitwise equal states (State::operator== compares values: −0 equals +0 there).
bool SameBits(const State& a, const State& b, const ModelConfig& c) {
  const int64_t wkv = int64_t{c.n_head} * c.head_size * c.head_size;
  for (int l = 0; l < c.n_layer; ++l) {
    if (!SameBits(a.att_shift(l), b.att_shift(l), c.n_embd) ||
        !SameBits(a.ffn_shift(l), b.ffn_shift(l), c.n_embd) || !SameBits(a.wkv(l), b.wkv(l), wkv)) {
      return false;
    }
  }
  return true;
}

// Runs the test body with its table selected and the model loaded (packed) for it.
class BatchInvarianceTest : public ::testing::TestWithParam<std::tuple<std::string, ModelSource>> {
 protected:
  void SetUp() override {
    for (const CpuKernels* k : AllKernels()) {
      if (k->name == std::get<0>(GetParam())) SelectKernelsForTesting(k);
    }
    ASSERT_EQ(SelectKernels().name, std::get<0>(GetParam()));
    model_ = std::get<1>(GetParam()).load();
    ASSERT_NE(model_, nullptr);
  }
  void TearDown() override {
    SelectKernelsForTesting(nullptr);
    SetKernelThreads(0);
  }
  std::shared_ptr<const Model> model_;
};

// Eight sequences at different positions, stepped together on two threads, against each
// stepped alone on one.
TEST_P(BatchInvarianceTest, StepBatchRowsAreStepsAlone) {
  const ModelConfig& c = model_->config();
  const int vocab = c.n_vocab;
  constexpr int kBatch = 8;
  Session session(model_);
  std::vector<State> alone, together;
  std::vector<float> logits;
  for (int b = 0; b < kBatch; ++b) {
    State st(c);
    session.Prefill(st, RandomTokens(2 * b, vocab, 10 + b), false, &logits);
    alone.push_back(st);
    together.push_back(st);
  }
  std::vector<State*> batch;
  for (State& st : together) batch.push_back(&st);
  for (int step = 0; step < 3; ++step) {
    const std::vector<int> tokens = RandomTokens(kBatch, vocab, 100 + step);
    SetKernelThreads(2);
    std::vector<float> got;
    session.StepBatch(batch, tokens, &got);
    SetKernelThreads(1);
    for (int b = 0; b < kBatch; ++b) {
      const std::span<const float> want = session.Step(alone[b], tokens[b]);
      EXPECT_TRUE(SameBits(got.data() + b * vocab, want.data(), vocab))
          << "step " << step << " sequence " << b;
      EXPECT_TRUE(SameBits(together[b], alone[b], c)) << "step " << step << " sequence " << b;
    }
  }
}

// One Prefill call, the same prompt split into several calls, and Step token by token: the
// same state and last logits; every position's logits (all_positions) are those of Step.
TEST_P(BatchInvarianceTest, PrefillIsSplitInvariant) {
  const ModelConfig& c = model_->config();
  const int vocab = c.n_vocab;
  const std::vector<int> tokens = RandomTokens(45, vocab, 5);
  Session session(model_);
  State by_step(c);
  std::vector<float> step_logits;
  for (int t : tokens) {
    const std::span<const float> l = session.Step(by_step, t);
    step_logits.insert(step_logits.end(), l.begin(), l.end());
  }
  const float* step_last = step_logits.data() + (tokens.size() - 1) * vocab;

  State whole(c);
  std::vector<float> all;
  session.Prefill(whole, tokens, true, &all);
  EXPECT_TRUE(SameBits(whole, by_step, c));
  for (size_t t = 0; t < tokens.size(); ++t) {
    EXPECT_TRUE(SameBits(all.data() + t * vocab, step_logits.data() + t * vocab, vocab))
        << "position " << t;
  }

  const std::vector<std::vector<size_t>> splits = {
      {}, {1}, {8}, {9}, {17}, {44}, {3, 11, 12, 30}, {2, 4, 6, 8, 10, 20, 40}};
  for (int threads : {1, 2}) {
    SetKernelThreads(threads);
    for (const std::vector<size_t>& at : splits) {
      State state(c);
      std::vector<float> last;
      size_t begin = 0;
      for (size_t i = 0; i <= at.size(); ++i) {
        const size_t end = i < at.size() ? at[i] : tokens.size();
        session.Prefill(state, std::span<const int>(tokens).subspan(begin, end - begin), false,
                        &last);
        begin = end;
      }
      const std::string where =
          ::testing::PrintToString(at) + " threads " + std::to_string(threads);
      EXPECT_TRUE(SameBits(state, by_step, c)) << where;
      ASSERT_EQ(last.size(), static_cast<size_t>(vocab)) << where;
      EXPECT_TRUE(SameBits(last.data(), step_last, vocab)) << where;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Tables, BatchInvarianceTest,
                         ::testing::Combine(::testing::ValuesIn(TableNames()),
                                            ::testing::ValuesIn(Sources())),
                         [](const ::testing::TestParamInfo<BatchInvarianceTest::ParamType>& p) {
                           return std::get<0>(p.param) + "_" + std::get<1>(p.param).name;
                         });

}  // namespace
}  // namespace anser
