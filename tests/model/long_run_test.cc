// 200,000 tokens of Shakespeare through the tiny fixture model: the state stays finite the whole
// way, and from the state reached, the sequence path and the step path still agree within the
// fixtures' float32 tolerance (max |Δ| ≤ 1e-4·std of the row, same argmax). Label `long`.
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <span>
#include <string>
#include <vector>

#include "anser/model.h"
#include "fixtures.h"

namespace anser {
namespace {

constexpr size_t kTokens = 200000;

TEST(LongRun, TwoHundredThousandTokensKeepTheStateFiniteAndBothPathsAgree) {
  auto model = Model::Load(testing::SharedDir() + "/fixtures/tiny-rwkv7-834K/model.fp32.pth");
  ASSERT_TRUE(model.ok()) << model.message();
  const ModelConfig& c = (*model)->config();
  std::ifstream in(testing::SharedDir() + "/data/tinyshakespeare.txt", std::ios::binary);
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ASSERT_GE(text.size(), kTokens + 64);
  std::vector<int> tokens(text.begin(), text.begin() + kTokens + 64);
  for (int& t : tokens) t = static_cast<unsigned char>(t);  // byte-level vocabulary

  Session session(*model);
  State state(c);
  std::vector<float> logits;
  constexpr size_t kChunk = 10000;
  for (size_t start = 0; start < kTokens; start += kChunk) {
    session.Prefill(state, std::span<const int>(tokens).subspan(start, kChunk),
                    /*all_positions=*/false, &logits);
    ASSERT_TRUE(state.AllFinite()) << "after " << start + kChunk << " tokens";
    ASSERT_TRUE(AllFinite(logits)) << "after " << start + kChunk << " tokens";
  }

  // The next 64 tokens both ways from the same state.
  const std::span<const int> tail = std::span<const int>(tokens).subspan(kTokens, 64);
  State by_sequence = state, by_step = state;
  std::vector<float> sequence;
  session.Prefill(by_sequence, tail, /*all_positions=*/true, &sequence);
  for (size_t t = 0; t < tail.size(); ++t) {
    const std::span<const float> step = session.Step(by_step, tail[t]);
    const std::string mismatch =
        testing::CompareRow(step.data(), sequence.data() + t * c.n_vocab, c.n_vocab);
    EXPECT_TRUE(mismatch.empty()) << "token " << t << ": " << mismatch;
  }
  EXPECT_TRUE(by_step.AllFinite());
}

}  // namespace
}  // namespace anser
