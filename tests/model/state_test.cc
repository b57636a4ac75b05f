// The recurrent state: save/load, copies, and the sequence path started from any state.
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <random>

#include "anser/model.h"
#include "fixtures.h"
#include "test_files.h"

namespace anser {
namespace {

std::shared_ptr<const Model> Load(const std::string& folder, const std::string& file) {
  auto m = Model::Load(testing::SharedDir() + "/fixtures/" + folder + "/" + file);
  EXPECT_TRUE(m.ok()) << m.message();
  return m.ok() ? m.value() : nullptr;
}

std::vector<int> RandomTokens(int n, int vocab, unsigned seed) {
  std::mt19937 rng(seed);
  std::vector<int> t(static_cast<size_t>(n));
  for (int& x : t) x = static_cast<int>(rng() % static_cast<unsigned>(vocab));
  return t;
}

std::vector<float> StepAll(Session& s, State& state, const std::vector<int>& tokens) {
  std::vector<float> out;
  for (int t : tokens) {
    auto l = s.Step(state, t);
    out.insert(out.end(), l.begin(), l.end());
  }
  return out;
}

std::string TempPath(const std::string& name) {
  return testing::ScratchPath(name);
}

TEST(StateTest, SaveLoadContinueIsBitExact) {
  auto model = Load("tiny-rwkv7-834K", "model.fp32.pth");
  ASSERT_NE(model, nullptr);
  Session s(model);
  const std::vector<int> prefix = RandomTokens(20, 256, 1), rest = RandomTokens(10, 256, 2);
  State uninterrupted(model->config());
  StepAll(s, uninterrupted, prefix);
  State saved = uninterrupted;
  const std::string path = TempPath("state_roundtrip.pth");
  ASSERT_TRUE(saved.Save(path).ok());
  auto loaded = State::Load(path, model->config());
  ASSERT_TRUE(loaded.ok()) << loaded.message();
  EXPECT_TRUE(loaded.value() == saved);
  const std::vector<float> a = StepAll(s, uninterrupted, rest);
  const std::vector<float> b = StepAll(s, loaded.value(), rest);
  EXPECT_EQ(a, b);
}

TEST(StateTest, CopiesAreIndependent) {
  auto model = Load("tiny-rwkv7-834K", "model.fp32.pth");
  ASSERT_NE(model, nullptr);
  Session s(model);
  const std::vector<int> prefix = RandomTokens(12, 256, 3);
  const std::vector<int> left = RandomTokens(6, 256, 4), right = RandomTokens(6, 256, 5);
  State base(model->config());
  StepAll(s, base, prefix);
  State copy = base;
  const std::vector<float> got_left = StepAll(s, base, left);
  const std::vector<float> got_right = StepAll(s, copy, right);
  // Each must equal a fresh run over prefix + its own continuation.
  for (const auto& [cont, got] : {std::pair{left, got_left}, std::pair{right, got_right}}) {
    State fresh(model->config());
    std::vector<int> all = prefix;
    all.insert(all.end(), cont.begin(), cont.end());
    std::vector<float> ref = StepAll(s, fresh, all);
    ref.erase(ref.begin(), ref.begin() + static_cast<std::ptrdiff_t>(prefix.size() * 256));
    EXPECT_EQ(got, ref);
  }
}

TEST(StateTest, ResetGivesTheZeroState) {
  auto model = Load("tiny-rwkv7-834K", "model.fp32.pth");
  ASSERT_NE(model, nullptr);
  Session s(model);
  State st(model->config());
  StepAll(s, st, RandomTokens(5, 256, 6));
  st.Reset();
  EXPECT_TRUE(st == State(model->config()));
}

// The sequence path from a non-zero state, across window boundaries and split calls, equals
// the step path from the same state, bit for bit (the kernels' batch invariant).
TEST(StateTest, SequenceFromStateEqualsStepFromState) {
  auto model = Load("rand-rwkv7-L2-D128-fp32", "model.fp32.pth");
  ASSERT_NE(model, nullptr);
  const int vocab = model->config().n_vocab;
  Session s(model);
  State start(model->config());
  StepAll(s, start, RandomTokens(7, vocab, 7));
  const std::vector<int> tokens = RandomTokens(1030, vocab, 8);  // crosses two 512-token windows
  State by_step = start;
  const std::vector<float> ref = StepAll(s, by_step, tokens);
  for (size_t split : {size_t{0}, size_t{1}, size_t{511}, size_t{513}}) {
    State by_seq = start;
    std::vector<float> got, part;
    s.Prefill(by_seq, std::span<const int>(tokens).first(split), true, &part);
    got = part;
    s.Prefill(by_seq, std::span<const int>(tokens).subspan(split), true, &part);
    got.insert(got.end(), part.begin(), part.end());
    ASSERT_EQ(got.size(), ref.size());
    for (size_t t = 0; t < tokens.size(); ++t) {
      ASSERT_EQ(std::memcmp(got.data() + t * vocab, ref.data() + t * vocab, vocab * sizeof(float)), 0)
          << "split " << split << " token " << t;
    }
    EXPECT_TRUE(by_seq == by_step) << "split " << split;
  }
}

TEST(StateTest, LoadRefusesAnotherModelsState) {
  auto tiny = Load("tiny-rwkv7-834K", "model.fp32.pth");
  auto other = Load("rand-rwkv7-L2-D128-fp32", "model.fp32.pth");
  ASSERT_TRUE(tiny && other);
  const std::string path = TempPath("state_tiny.pth");
  ASSERT_TRUE(State(tiny->config()).Save(path).ok());
  auto loaded = State::Load(path, other->config());
  ASSERT_FALSE(loaded.ok());
  EXPECT_NE(loaded.message().find("wkv"), std::string::npos) << loaded.message();
}

TEST(StateTest, LoadRefusesAFileThatIsNotAState) {
  auto tiny = Load("tiny-rwkv7-834K", "model.fp32.pth");
  ASSERT_NE(tiny, nullptr);
  auto loaded = State::Load(testing::SharedDir() + "/fixtures/tiny-rwkv7-834K/model.fp32.pth", tiny->config());
  ASSERT_FALSE(loaded.ok());
  EXPECT_NE(loaded.message().find("not an Anser state file"), std::string::npos) << loaded.message();
}

// B sequences at different positions advanced together equal each advanced alone.
TEST(StateTest, BatchedDecodeEqualsSteps) {
  auto model = Load("rand-rwkv7-L2-D128-fp32", "model.fp32.pth");
  ASSERT_NE(model, nullptr);
  const int vocab = model->config().n_vocab;
  Session s(model);
  for (int batch = 1; batch <= 8; ++batch) {
    std::vector<State> alone, together;
    for (int b = 0; b < batch; ++b) {
      State st(model->config());
      StepAll(s, st, RandomTokens(b * 3, vocab, 100 + b));  // different positions
      alone.push_back(st);
      together.push_back(st);
    }
    std::vector<State*> ptrs;
    for (State& st : together) ptrs.push_back(&st);
    for (int step = 0; step < 3; ++step) {
      const std::vector<int> tokens = RandomTokens(batch, vocab, 200 + step);
      std::vector<float> got;
      s.StepBatch(ptrs, tokens, &got);
      ASSERT_EQ(got.size(), static_cast<size_t>(batch * vocab));
      for (int b = 0; b < batch; ++b) {
        auto ref = s.Step(alone[static_cast<size_t>(b)], tokens[static_cast<size_t>(b)]);
        ASSERT_EQ(testing::CompareRow(got.data() + b * vocab, ref.data(), vocab), "")
            << "batch " << batch << " sequence " << b << " step " << step;
      }
    }
  }
}

}  // namespace
}  // namespace anser
