// The C API's process-wide settings: valid before the first model load, an error after. One
// test, in a binary of its own, because a load fixes the settings for the whole process.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "anser/anser.h"
#include "model/fixtures.h"

namespace anser {
namespace {

TEST(CapiSettings, ApplyBeforeTheFirstLoadAndAreFixedAfter) {
  EXPECT_EQ(anser_set_threads(-1), ANSER_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(anser_set_kernels("fastest"), ANSER_ERROR_UNSUPPORTED);
  const std::string unknown = anser_last_error();
  EXPECT_NE(unknown.find(
                "anser_set_kernels: kernel table 'fastest' is not one this CPU runs: choose ref"),
            std::string::npos)
      << unknown;
  EXPECT_EQ(anser_set_kernels(nullptr), ANSER_ERROR_INVALID_ARGUMENT);

  ASSERT_EQ(anser_set_threads(1), ANSER_OK) << anser_last_error();
  EXPECT_EQ(anser_threads(), 1);
  ASSERT_EQ(anser_set_kernels("ref"), ANSER_OK) << anser_last_error();
  EXPECT_STREQ(anser_kernels(), "ref");

  const testing::Fixture f = testing::ReadFixture("rand-rwkv7-L2-D128-fp32");
  const testing::FixtureCase& c = f.cases.back();
  anser_model* model = nullptr;
  ASSERT_EQ(anser_model_load((f.dir + "/" + c.model).c_str(), &model), ANSER_OK)
      << anser_last_error();

  EXPECT_EQ(anser_set_threads(2), ANSER_ERROR_TOO_LATE);
  EXPECT_STREQ(
      anser_last_error(),
      "anser_set_threads: a model is already loaded: set the thread count before the first load");
  EXPECT_EQ(anser_set_kernels("ref"), ANSER_ERROR_TOO_LATE);
  EXPECT_EQ(anser_threads(), 1);
  EXPECT_STREQ(anser_kernels(), "ref");

  // The model runs with the chosen settings and still matches the reference.
  anser_session* session = nullptr;
  anser_state* state = nullptr;
  ASSERT_EQ(anser_session_new(model, &session), ANSER_OK);
  ASSERT_EQ(anser_state_new(model, &state), ANSER_OK);
  std::vector<float> logits(c.tokens.size() * f.vocab);
  ASSERT_EQ(anser_session_prefill(session, state, c.tokens.data(), c.tokens.size(), 1,
                                  logits.data(), logits.size()),
            ANSER_OK);
  EXPECT_EQ(anser_threads(), 1);
  for (size_t i = 0; i < c.positions.size(); ++i) {
    EXPECT_EQ(testing::CompareRow(logits.data() + static_cast<size_t>(c.positions[i]) * f.vocab,
                                  c.logits.data() + i * f.vocab, f.vocab),
              "")
        << i;
  }
  anser_state_free(state);
  anser_session_free(session);
  anser_model_free(model);
}

}  // namespace
}  // namespace anser
