// The task generators, independently of training: the group word problem's layout, its labels
// against a product recomputed from scratch, its length-2 rows and held-out set; MQAR's layout
// (every key queried once, its value as the label, labels nowhere else, power-law gaps); and a
// run of the task trainer: deterministic from its seed, and able to learn parity in one layer
// with the removal term doubled.
#include <gtest/gtest.h>

#include <map>
#include <set>
#include <vector>

#include "experiments/group_word_task.h"
#include "experiments/mqar_task.h"
#include "experiments/task_trainer.h"

namespace anser {
namespace {

GroupWordTask WordTask(const std::string& group, int64_t len, int64_t val, uint64_t seed) {
  auto task = GroupWordTask::Make(FiniteGroup::Make(group).value(), len, val, 16, seed);
  EXPECT_TRUE(task.ok()) << task.message();
  return std::move(task.value());
}

// Every sequence of a batch: the start token, then elements each labelled with the product of
// the elements so far (computed here from scratch for every position).
void ExpectWordLabels(const GroupWordTask& task, const Batch& b, int* pair_rows) {
  const FiniteGroup& g = task.group();
  ASSERT_EQ(b.n_tokens, task.seq_len());
  for (int64_t s = 0; s < b.batch; ++s) {
    const int* in = b.inputs.data() + s * b.n_tokens;
    const int* tg = b.targets.data() + s * b.n_tokens;
    EXPECT_EQ(in[0], task.start_token());
    EXPECT_EQ(tg[0], kNoTarget);
    int labelled = 0;
    for (int64_t t = 1; t < b.n_tokens; ++t) {
      if (tg[t] == kNoTarget) continue;
      ++labelled;
      ASSERT_EQ(labelled, t) << "labels must be a prefix";
      int product = g.identity();
      for (int64_t i = 1; i <= t; ++i) {
        ASSERT_TRUE(in[i] >= 0 && in[i] < g.order());
        product = g.Multiply(product, in[i]);
      }
      EXPECT_EQ(tg[t], product) << "sequence " << s << " position " << t;
    }
    if (labelled == 2) ++*pair_rows;
    EXPECT_TRUE(labelled == 2 || labelled == b.n_tokens - 1) << labelled;
  }
}

TEST(GroupWordTaskTest, LabelsAreRunningProducts) {
  for (const char* name : {"A5", "S5", "A4xZ5", "Z60", "Z2"}) {
    SCOPED_TRACE(name);
    GroupWordTask task = WordTask(name, 9, 40, 3);
    EXPECT_EQ(task.vocab_size(), task.group().order() + 1);
    int pairs = 0;
    for (const Batch& b : task.validation()) ExpectWordLabels(task, b, &pairs);
    EXPECT_EQ(pairs, 0) << "validation holds full-length sequences only";
    SplitMix64 rng(5);
    ExpectWordLabels(task, task.TrainBatch(64, rng), &pairs);
    EXPECT_EQ(pairs, 8) << "one row in eight is a length-2 sequence";
  }
}

// The length-2 rows go through all n² pairs before repeating one.
TEST(GroupWordTaskTest, LengthTwoRowsCoverEveryPair) {
  GroupWordTask task = WordTask("A5", 4, 8, 1);
  SplitMix64 rng(2);
  std::set<std::pair<int, int>> seen;
  for (int step = 0; step < 450; ++step) {  // 450 × 8 = 3600 pair rows
    const Batch b = task.TrainBatch(64, rng);
    for (int64_t s = 7; s < b.batch; s += 8) {
      const int* in = b.inputs.data() + s * b.n_tokens;
      EXPECT_TRUE(seen.insert({in[1], in[2]}).second) << "pair repeated before all were seen";
    }
  }
  EXPECT_EQ(seen.size(), 3600u);
}

// Z2 at length 3 has 8 sequences; those held out never appear in training.
TEST(GroupWordTaskTest, HeldOutSequencesNeverTrain) {
  GroupWordTask task = WordTask("Z2", 3, 3, 4);
  std::set<std::vector<int>> held_out;
  for (const Batch& b : task.validation()) {
    for (int64_t s = 0; s < b.batch; ++s)
      held_out.insert({b.inputs.begin() + s * 4, b.inputs.begin() + (s + 1) * 4});
  }
  SplitMix64 rng(9);
  std::set<std::vector<int>> trained;
  for (int i = 0; i < 20; ++i) {
    const Batch b = task.TrainBatch(16, rng);
    for (int64_t s = 0; s < b.batch; ++s) {
      if (s % 8 == 7) continue;  // a length-2 row
      trained.insert({b.inputs.begin() + s * 4, b.inputs.begin() + (s + 1) * 4});
    }
  }
  EXPECT_EQ(trained.size() + held_out.size(), 8u);
  for (const auto& seq : trained) EXPECT_EQ(held_out.count(seq), 0u);
  EXPECT_FALSE(GroupWordTask::Make(FiniteGroup::Make("Z2").value(), 2, 4, 4, 1).ok());
}

TEST(MqarTaskTest, EveryKeyIsQueriedOnceWithItsValue) {
  MqarShape shape;
  shape.seq_len = 96, shape.pairs = 12;
  MqarTask task = MqarTask::Make(shape, 64, 16, 7).value();
  SplitMix64 rng(11);
  std::vector<Batch> batches = task.validation();
  batches.push_back(task.TrainBatch(32, rng));
  std::map<int64_t, int> first_slot;  // how often the first query takes each slot
  for (const Batch& b : batches) {
    for (int64_t s = 0; s < b.batch; ++s) {
      const int* in = b.inputs.data() + s * 96;
      const int* tg = b.targets.data() + s * 96;
      std::map<int, int> value_of;
      std::set<int> values;
      for (int i = 0; i < 12; ++i) {
        EXPECT_TRUE(in[2 * i] >= 1 && in[2 * i] < 4096) << "key";
        EXPECT_TRUE(in[2 * i + 1] >= 4096 && in[2 * i + 1] < 8192) << "value";
        EXPECT_TRUE(value_of.insert({in[2 * i], in[2 * i + 1]}).second) << "keys repeat";
        EXPECT_TRUE(values.insert(in[2 * i + 1]).second) << "values repeat";
        EXPECT_EQ(tg[2 * i], kNoTarget);
        EXPECT_EQ(tg[2 * i + 1], kNoTarget);
      }
      std::set<int> queried;
      int64_t first = -1;
      for (int64_t t = 24; t < 96; ++t) {
        EXPECT_TRUE(in[t] >= 0 && in[t] < 8192);
        if (tg[t] == kNoTarget) continue;
        EXPECT_EQ((t - 24) % 2, 0) << "queries sit at pair slots";
        ASSERT_EQ(value_of.count(in[t]), 1u) << "a query is one of the keys";
        EXPECT_EQ(tg[t], value_of[in[t]]) << "the label is the key's value";
        EXPECT_TRUE(queried.insert(in[t]).second) << "a key queried twice";
        if (first < 0) first = (t - 24) / 2;
      }
      EXPECT_EQ(queried.size(), 12u) << "every key queried once";
      ++first_slot[first];
    }
  }
  // Weights (g+1)^−0.99: the first slot is always among those drawn far more often than not.
  EXPECT_GT(first_slot[0], first_slot[20] + first_slot[21] + first_slot[22]);
  EXPECT_FALSE(MqarTask::Make({63, 4, 8192, 0.01}, 4, 4, 1).ok());
  EXPECT_FALSE(MqarTask::Make({64, 17, 8192, 0.01}, 4, 4, 1).ok());
}

TEST(MqarTaskTest, DeterministicFromTheSeed) {
  MqarShape shape;
  MqarTask a = MqarTask::Make(shape, 8, 8, 1).value();
  MqarTask b = MqarTask::Make(shape, 8, 8, 1).value();
  MqarTask c = MqarTask::Make(shape, 8, 8, 2).value();
  EXPECT_EQ(a.validation()[0].inputs, b.validation()[0].inputs);
  EXPECT_NE(a.validation()[0].inputs, c.validation()[0].inputs);
}

// Parity in one layer: with the removal term doubled the transition reaches the eigenvalue −1
// parity needs, and a tiny model learns it in a few hundred steps. Two runs from one seed agree
// exactly.
TEST(TaskTrainerTest, LearnsParityInOneLayerAndIsDeterministic) {
  TaskTrainOptions o;
  o.layers = 1, o.width = 16, o.head_size = 8, o.steps = 300, o.batch = 16, o.lr = 3e-3;
  o.warmup = 20, o.eval_every = 50, o.stop_at = 0.99, o.seed = 3, o.threads = 1;
  o.variant = ParseModelVariant("", 2.0).value();
  GroupWordTask task = WordTask("Z2", 24, 64, 3);
  auto run = TrainOnTask(task, o, nullptr);
  ASSERT_TRUE(run.ok()) << run.message();
  EXPECT_GT(run->val.token_acc, 0.95) << "after " << run->steps << " steps";
  GroupWordTask again = WordTask("Z2", 24, 64, 3);
  auto rerun = TrainOnTask(again, o, nullptr);
  ASSERT_TRUE(rerun.ok());
  EXPECT_EQ(rerun->steps, run->steps);
  EXPECT_EQ(rerun->val.token_acc, run->val.token_acc);
  EXPECT_EQ(rerun->params.tensors()[3].data, run->params.tensors()[3].data);
  auto score = ScoreOnValidation(run->params, task, 1);
  ASSERT_TRUE(score.ok());
  EXPECT_EQ(score->token_acc, run->val.token_acc);
}

}  // namespace
}  // namespace anser
