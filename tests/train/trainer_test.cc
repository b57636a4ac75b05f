// The training loop end to end on tiny models: it learns, a resumed run replays the
// uninterrupted one exactly, state tuning learns and writes a loadable State, checkpoints
// reload bit-exactly; and the from-scratch initialisation follows docs/RWKV7.md.
#include "train/gemm.h"
#include "train/trainer.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <string>

#include "anser/model.h"
#include "anser/tokenizer.h"
#include "core/dtype.h"
#include "train/adamw.h"
#include "train/grad.h"
#include "train/init.h"
#include "train/model_file.h"
#include "test_files.h"

namespace anser {
namespace {

std::string TempDir(const std::string& name) {
  const std::string dir = testing::ScratchPath("trainer_" + name);
  std::filesystem::remove_all(dir);
  return dir;
}

// A few kilobytes of repetitive text: easy to learn, so a handful of steps must show it.
Corpus TextCorpus() {
  std::string text;
  const char* lines[] = {"to be or not to be, that is the question.\n",
                         "the rain in spain stays mainly in the plain.\n",
                         "all that glitters is not gold.\n"};
  for (int i = 0; i < 60; ++i) text += lines[i % 3];
  auto corpus = MakeCorpus(text, *MakeByteTokenizer());
  EXPECT_TRUE(corpus.ok()) << corpus.message();
  return corpus.value();
}

ParamSet TinyParams(uint64_t seed) {
  auto config = ScratchConfig(2, 32, 16, 256);
  EXPECT_TRUE(config.ok());
  auto params = InitParams(config.value(), seed, 1);
  EXPECT_TRUE(params.ok()) << params.message();
  return params.value();
}

TrainOptions TinyOptions() {
  TrainOptions o;
  o.steps = 12, o.batch = 4, o.ctx = 16, o.lr = 1e-2, o.lr_final = 1e-3, o.warmup = 2;
  o.eval_every = 3, o.save_every = 4, o.val_tokens = 256, o.seed = 7, o.threads = 2;
  return o;
}

// Σ_k a[k][i]·a[k][j] of a (rows, cols) matrix when `columns`, else of its rows.
double Gram(const float* a, int64_t rows, int64_t cols, int64_t i, int64_t j, bool columns) {
  double s = 0;
  if (columns) {
    for (int64_t k = 0; k < rows; ++k) s += static_cast<double>(a[k * cols + i]) * a[k * cols + j];
  } else {
    for (int64_t k = 0; k < cols; ++k) s += static_cast<double>(a[i * cols + k]) * a[j * cols + k];
  }
  return s;
}

// Orthogonal with gain g: the smaller side's vectors are orthogonal, each of squared norm g².
void ExpectOrthogonal(const ParamSet& p, const std::string& name, double gain) {
  const NamedTensor<float>* t = nullptr;
  for (const auto& x : p.tensors()) {
    if (x.name == name) t = &x;
  }
  ASSERT_NE(t, nullptr) << name;
  const int64_t rows = t->shape[0], cols = t->shape[1];
  const bool columns = rows >= cols;
  const int64_t n = std::min(rows, cols);
  for (int64_t i = 0; i < n; i += 3) {
    for (int64_t j = 0; j < n; j += 5) {
      EXPECT_NEAR(Gram(t->data.data(), rows, cols, i, j, columns), i == j ? gain * gain : 0.0,
                  1e-4 * gain * gain)
          << name << " (" << i << ", " << j << ")";
    }
  }
}

TEST(InitTest, FollowsTheOfficialFormulas) {
  EXPECT_EQ(OfficialLoraRanks(768).w, 64);
  EXPECT_EQ(OfficialLoraRanks(768).g, 128);
  EXPECT_EQ(OfficialLoraRanks(2048).v, 64);
  EXPECT_EQ(OfficialLoraRanks(2560).g, 320);
  const int L = 3, C = 64, N = 16;
  auto config = ScratchConfig(L, C, N, 256);
  ASSERT_TRUE(config.ok());
  ParamSet p = InitParams(config.value(), 5, 1).value();
  const double n = 37, d = n / C, lin = n / (C - 1) - 0.5;
  const double z = (static_cast<double>(37 % N) - (N - 1) / 2.0) / ((N - 1) / 2.0),
               zig = z * std::abs(z);
  const int l = 1;
  const double r0 = 1.0 / (L - 1), r1 = 1.0 - 1.0 / L;
  const std::string a = "blocks.1.att.";
  EXPECT_NEAR(p.Find(a + "x_r")[37], 1 - std::pow(d, 0.2 * r1), 1e-6);
  EXPECT_NEAR(p.Find(a + "x_w")[37], 1 - std::pow(d, 0.9 * r1), 1e-6);
  EXPECT_NEAR(p.Find(a + "x_k")[37], 1 - std::pow(d, 0.7 * r1), 1e-6);
  EXPECT_NEAR(p.Find(a + "x_g")[37], 1 - std::pow(d, 0.2 * r1), 1e-6);
  EXPECT_NEAR(p.Find("blocks.1.ffn.x_k")[37], 1 - std::pow(d, std::pow(r1, 4)), 1e-6);
  EXPECT_NEAR(p.Find(a + "w0")[37],
              -6 + 6 * std::pow(n / (C - 1), 1 + std::pow(r0, 0.3)) + 0.5 + 2.5 * zig, 1e-5);
  EXPECT_NEAR(p.Find(a + "a0")[37], -0.19 + 0.3 * zig + 0.4 * lin, 1e-6);
  EXPECT_NEAR(p.Find(a + "v0")[37], 0.73 - 0.4 * lin, 1e-6);
  EXPECT_NEAR(p.Find(a + "k_k")[37], 0.71 - 0.1 * lin, 1e-6);
  EXPECT_FLOAT_EQ(p.Find(a + "k_a")[37], 1.02f);
  EXPECT_FLOAT_EQ(p.Find(a + "r_k")[5], -0.04f);
  EXPECT_NEAR(p.Find(a + "ln_x.weight")[3], std::pow((l + 1.0) / L, 0.7), 1e-6);
  EXPECT_FLOAT_EQ(p.Find("blocks.2.ln1.weight")[9], 1.0f);
  for (const char* zero : {"w1", "a1", "v1", "g1", "output.weight"}) {
    EXPECT_EQ(p.Find(a + zero)[11], 0.0f) << zero;
  }
  EXPECT_EQ(p.Find("blocks.1.ffn.value.weight")[11], 0.0f);
  for (const char* lora : {"w2", "a2", "v2", "g2"}) ExpectOrthogonal(p, a + lora, 0.1);
  ExpectOrthogonal(p, a + "receptance.weight", 1.0);
  ExpectOrthogonal(p, a + "value.weight", 1.0);
  ExpectOrthogonal(p, a + "key.weight", 0.1);
  // ffn.key is (4C, C): the official √(rows/cols) factor makes its columns' norm 2.
  ExpectOrthogonal(p, "blocks.1.ffn.key.weight", 2.0);
  // head (V, C), V > C: gain 0.5·√(V/C).
  ExpectOrthogonal(p, "head.weight", 0.5 * std::sqrt(256.0 / C));
  float emb_max = 0;
  for (int64_t i = 0; i < 256 * C; ++i)
    emb_max = std::max(emb_max, std::abs(p.Find("emb.weight")[i]));
  EXPECT_LE(emb_max, 1e-4f);
  EXPECT_GT(emb_max, 0.9e-4f);
  // Deterministic from the seed, whatever the thread count.
  ParamSet again = InitParams(config.value(), 5, 2).value();
  ASSERT_EQ(again.tensors().size(), p.tensors().size());
  for (size_t i = 0; i < p.tensors().size(); ++i)
    EXPECT_EQ(again.tensors()[i].data, p.tensors()[i].data) << p.tensors()[i].name;
  EXPECT_EQ(InitParams(config.value(), 5, 1).value().Find("head.weight")[7], p.Find("head.weight")[7]);
  EXPECT_NE(InitParams(config.value(), 6, 1).value().Find("head.weight")[7], p.Find("head.weight")[7]);
}

TEST(AdamWTest, GroupsAndSchedule) {
  EXPECT_TRUE(GroupOf("emb.weight", {256, 32}).decay);
  EXPECT_TRUE(GroupOf("blocks.0.att.key.weight", {32, 32}).decay);
  EXPECT_FALSE(GroupOf("blocks.0.att.w1", {32, 32}).decay);
  EXPECT_FALSE(GroupOf("blocks.0.ln1.weight", {32}).decay);
  EXPECT_EQ(GroupOf("blocks.0.att.w0", {1, 1, 32}).lr_scale, 2.0);
  EXPECT_DOUBLE_EQ(ScheduledLr(0, 100, 10, 1.0, 0.1), 0.1);
  EXPECT_DOUBLE_EQ(ScheduledLr(9, 100, 10, 1.0, 0.1), 1.0);
  EXPECT_DOUBLE_EQ(ScheduledLr(10, 100, 10, 1.0, 0.1), 1.0);
  EXPECT_NEAR(ScheduledLr(99, 100, 10, 1.0, 0.1), 0.1, 1e-12);
}

TEST(TrainerTest, ReducesTheLoss) {
  const std::string dir = TempDir("learn");
  TrainOptions o = TinyOptions();
  o.steps = 30, o.eval_every = 0, o.save_every = 0;
  auto trainer = Trainer::Create(TinyParams(1), TextCorpus(), o, dir, "");
  ASSERT_TRUE(trainer.ok()) << trainer.message();
  const double before = trainer.value()->Evaluate().value();
  LogRow last;
  while (!trainer.value()->done()) last = trainer.value()->Step().value();
  EXPECT_NEAR(before, std::log(256.0), 0.2);  // the official init starts near uniform logits
  EXPECT_LT(last.val_loss, before - 1.5);
  ASSERT_TRUE(std::filesystem::exists(dir + "/model.pth"));
  ASSERT_TRUE(std::filesystem::exists(dir + "/resume/trainer.bin"));
  EXPECT_EQ(ReadLog(dir + "/log.csv").value().size(), 30u);
}

TEST(TrainerTest, ResumedRunReplaysTheUninterruptedOne) {
  TrainOptions o = TinyOptions();
  o.dropout = 0.1;  // the dropout masks replay too
  o.bf16_products = Bf16ProductsRun();  // and the products' precision, where the CPU has bf16
  const std::string full_dir = TempDir("full"), cut_dir = TempDir("cut");
  auto full = Trainer::Create(TinyParams(3), TextCorpus(), o, full_dir, "").value();
  while (!full->done()) ASSERT_TRUE(full->Step().ok());
  {
    // Interrupted after step 6: the last save was at step 4, steps 5 and 6 are lost.
    auto cut = Trainer::Create(TinyParams(3), TextCorpus(), o, cut_dir, "").value();
    for (int i = 0; i < 6; ++i) ASSERT_TRUE(cut->Step().ok());
  }
  auto resumed = Trainer::Resume(cut_dir, TextCorpus(), 1);
  ASSERT_TRUE(resumed.ok()) << resumed.message();
  EXPECT_EQ(resumed.value()->step(), 4);
  while (!resumed.value()->done()) ASSERT_TRUE(resumed.value()->Step().ok());
  const std::vector<LogRow> a = ReadLog(full_dir + "/log.csv").value(),
                            b = ReadLog(cut_dir + "/log.csv").value();
  ASSERT_EQ(a.size(), 12u);
  ASSERT_EQ(b.size(), a.size());
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].step, b[i].step);
    EXPECT_EQ(a[i].tokens, b[i].tokens);
    EXPECT_EQ(a[i].loss, b[i].loss) << "row " << i;
    EXPECT_EQ(a[i].val_loss, b[i].val_loss) << "row " << i;
    EXPECT_EQ(a[i].lr, b[i].lr);
  }
  for (size_t t = 0; t < full->params().tensors().size(); ++t) {
    EXPECT_EQ(full->params().tensors()[t].data, resumed.value()->params().tensors()[t].data)
        << full->params().tensors()[t].name;
  }
  // A different corpus is refused.
  Corpus other = TextCorpus();
  other.train[0] ^= 1;
  EXPECT_FALSE(Trainer::Resume(cut_dir, other, 1).ok());
}

TEST(TrainerTest, StateTuningLearnsAndSavesALoadableState) {
  const std::string dir = TempDir("state");
  // A random (not freshly initialised) model, so the state reaches the output.
  ModelConfig c = ScratchConfig(2, 32, 16, 256).value();
  auto model = Model::Random(c, "f32", 9);
  ASSERT_TRUE(model.ok());
  const std::string model_path = dir + "_model.pth";
  ASSERT_TRUE(SaveParams(model_path, ParamsFromModel(*model.value()), false).ok());
  TrainOptions o = TinyOptions();
  o.tune_state = true, o.steps = 20, o.lr = 0.1, o.lr_final = 0.01, o.eval_every = 0,
  o.save_every = 10;
  auto trainer = Trainer::Create(LoadParams(model_path).value(), TextCorpus(), o, dir, model_path);
  ASSERT_TRUE(trainer.ok()) << trainer.message();
  const double before = trainer.value()->Evaluate().value();
  LogRow last;
  while (!trainer.value()->done()) last = trainer.value()->Step().value();
  EXPECT_LT(last.val_loss, before - 0.05);
  auto state = State::Load(dir + "/state.pth", c);
  ASSERT_TRUE(state.ok()) << state.message();
  EXPECT_EQ(state.value().wkv(1)[3],
            trainer.value()->init_state()[static_cast<size_t>(c.n_head * 16 * 16 + 3)]);
  EXPECT_EQ(state.value().att_shift(0)[0], 0.0f);
  // The frozen weights did not move.
  EXPECT_EQ(trainer.value()->params().tensors()[3].data,
            LoadParams(model_path).value().tensors()[3].data);
  auto resumed = Trainer::Resume(dir, TextCorpus(), 1);
  ASSERT_TRUE(resumed.ok()) << resumed.message();
  EXPECT_EQ(resumed.value()->init_state(), trainer.value()->init_state());
}

TEST(TrainerTest, CheckpointsReloadBitExactly) {
  const std::string dir = TempDir("reload");
  TrainOptions o = TinyOptions();
  o.steps = 3, o.eval_every = 0;
  auto trainer = Trainer::Create(TinyParams(4), TextCorpus(), o, dir, "").value();
  while (!trainer->done()) ASSERT_TRUE(trainer->Step().ok());
  auto model = Model::Load(dir + "/model.pth");
  ASSERT_TRUE(model.ok()) << model.message();
  const ParamSet reloaded = ParamsFromModel(*model.value());
  Batch batch;
  batch.batch = 1, batch.n_tokens = 8;
  batch.inputs = {1, 50, 99, 120, 3, 255, 0, 17};
  batch.targets = batch.inputs;
  EXPECT_EQ(TrainForwardLogits(reloaded, batch, 1).value(),
            TrainForwardLogits(trainer->params(), batch, 1).value());
  // bf16: the weights rounded to bf16, exactly.
  ASSERT_TRUE(SaveParams(dir + "/bf16.pth", trainer->params(), true).ok());
  const ParamSet half = ParamsFromModel(*Model::Load(dir + "/bf16.pth").value());
  const std::vector<float>& w = trainer->params().tensors()[7].data;
  for (size_t i = 0; i < w.size(); ++i)
    EXPECT_EQ(half.tensors()[7].data[i], Bf16ToF32(F32ToBf16(w[i])));
}

// One process of a job of `size` seen from inside: every other process is taken to hold the
// same values (sums scale by size), and the weights compare equal only when `same_weights`.
class FakeJob final : public Distributed {
 public:
  FakeJob(int rank, int size, bool same_weights)
      : rank_(rank), size_(size), same_weights_(same_weights) {}
  int rank() const override { return rank_; }
  int size() const override { return size_; }
  int local_size() const override { return size_; }
  void SumFloats(float* data, size_t n) override {
    for (size_t i = 0; i < n; ++i) data[i] *= static_cast<float>(size_);
  }
  void SumDoubles(double* data, size_t n) override {
    for (size_t i = 0; i < n; ++i) data[i] *= size_;
  }
  bool AllEqual(uint64_t) override { return same_weights_; }
  void Abort(int) override {}

 private:
  int rank_, size_;
  bool same_weights_;
};

TEST(DistributedTrainerTest, TheBatchMustDivideAmongTheProcesses) {
  FakeJob job(0, 3, true);
  auto trainer =
      Trainer::Create(TinyParams(2), TextCorpus(), TinyOptions(), TempDir("odd"), "", &job);
  ASSERT_FALSE(trainer.ok());
  EXPECT_NE(trainer.message().find("--batch 4 does not divide among the 3 processes"),
            std::string::npos)
      << trainer.message();
}

TEST(DistributedTrainerTest, OnlyRankZeroWritesFiles) {
  const std::string dir = TempDir("rank1");
  FakeJob job(1, 2, true);
  TrainOptions o = TinyOptions();
  o.steps = 4;
  auto trainer = Trainer::Create(TinyParams(2), TextCorpus(), o, dir, "", &job);
  ASSERT_TRUE(trainer.ok()) << trainer.message();
  while (!trainer.value()->done()) ASSERT_TRUE(trainer.value()->Step().ok());
  EXPECT_FALSE(std::filesystem::exists(dir));
  // Rank 1 of 2 trains on sequences 2 and 3 of each global batch, counted as the whole batch.
  EXPECT_EQ(trainer.value()->log().back().tokens, o.steps * o.batch * o.ctx);
}

TEST(DistributedTrainerTest, WeightsThatDifferStopTheRun) {
  FakeJob job(0, 2, false);
  TrainOptions o = TinyOptions();
  auto trainer = Trainer::Create(TinyParams(2), TextCorpus(), o, TempDir("differ"), "", &job);
  ASSERT_TRUE(trainer.ok()) << trainer.message();
  for (int64_t s = 1; s < o.eval_every; ++s) ASSERT_TRUE(trainer.value()->Step().ok());
  auto row = trainer.value()->Step();  // evaluates, and compares the weights
  ASSERT_FALSE(row.ok());
  EXPECT_NE(row.message().find("the weights of the 2 processes differ after step 3"),
            std::string::npos)
      << row.message();
}

}  // namespace
}  // namespace anser
