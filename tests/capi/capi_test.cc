// The C API through libanser.so, as a C program sees it: every function, its results against the
// fixtures, and its error paths (a status code and a message, never an abort).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "anser/anser.h"
#include "model/fixtures.h"
#include "test_files.h"

namespace anser {
namespace {

using testing::CompareRow;
using testing::SharedDir;

std::string FixturePath(const std::string& relative) {
  return SharedDir() + "/fixtures/" + relative;
}
std::string SharedVocab() { return SharedDir() + "/vocab/rwkv_vocab_v20230424.txt"; }

#define ASSERT_ANSER_OK(call) ASSERT_EQ((call), ANSER_OK) << anser_last_error()

// The message of the call that just failed contains `function` and `part`.
void ExpectMessage(const std::string& function, const std::string& part) {
  const std::string message = anser_last_error();
  EXPECT_EQ(message.rfind(function + ": ", 0), 0u) << message;
  EXPECT_NE(message.find(part), std::string::npos) << message;
}

// Owning wrappers, so that a failed assertion does not leak.
struct Model {
  explicit Model(const std::string& path) {
    EXPECT_EQ(anser_model_load(path.c_str(), &m), ANSER_OK) << anser_last_error();
  }
  ~Model() { anser_model_free(m); }
  anser_model_config Config() const {
    anser_model_config c{};
    c.struct_size = sizeof c;
    EXPECT_EQ(anser_model_get_config(m, &c), ANSER_OK) << anser_last_error();
    return c;
  }
  anser_model* m = nullptr;
};
struct State {
  explicit State(const anser_model* model) {
    EXPECT_EQ(anser_state_new(model, &s), ANSER_OK) << anser_last_error();
  }
  State() = default;
  ~State() { anser_state_free(s); }
  std::vector<float> Part(anser_state_part part) const {
    float* data = nullptr;
    size_t count = 0;
    EXPECT_EQ(anser_state_data(s, part, &data, &count), ANSER_OK) << anser_last_error();
    return std::vector<float>(data, data + count);
  }
  std::vector<float> All() const {
    std::vector<float> all;
    for (anser_state_part p : {ANSER_STATE_ATT_SHIFT, ANSER_STATE_WKV, ANSER_STATE_FFN_SHIFT}) {
      const std::vector<float> part = Part(p);
      all.insert(all.end(), part.begin(), part.end());
    }
    return all;
  }
  anser_state* s = nullptr;
};
struct Session {
  explicit Session(const anser_model* model) {
    EXPECT_EQ(anser_session_new(model, &s), ANSER_OK) << anser_last_error();
  }
  ~Session() { anser_session_free(s); }
  anser_session* s = nullptr;
};
struct Tokenizer {
  ~Tokenizer() { anser_tokenizer_free(t); }
  anser_tokenizer* t = nullptr;
};

// Every stored row of a fixture case within the fixtures' float32 tolerance.
void ExpectRowsMatch(const testing::FixtureCase& c, const std::vector<float>& all_positions,
                     int vocab) {
  for (size_t i = 0; i < c.positions.size(); ++i) {
    const float* got = all_positions.data() + static_cast<size_t>(c.positions[i]) * vocab;
    EXPECT_EQ(CompareRow(got, c.logits.data() + i * vocab, vocab), "") << c.name << " row " << i;
  }
}

TEST(CapiLibrary, VersionsAndStatusNames) {
  EXPECT_EQ(anser_api_version(), ANSER_API_VERSION);
  EXPECT_STREQ(anser_version(), ANSER_VERSION);
  EXPECT_STREQ(anser_status_name(ANSER_OK), "ANSER_OK");
  EXPECT_STREQ(anser_status_name(ANSER_ERROR_FILE), "ANSER_ERROR_FILE");
  EXPECT_STREQ(anser_status_name(ANSER_ERROR_BUFFER_TOO_SMALL), "ANSER_ERROR_BUFFER_TOO_SMALL");
  EXPECT_STREQ(anser_status_name(static_cast<anser_status>(99)), "ANSER_STATUS_UNKNOWN");
}

TEST(CapiLibrary, LastErrorIsPerThreadAndKeptBySuccessfulCalls) {
  std::string other_thread;
  std::thread([&] { other_thread = anser_last_error(); }).join();
  EXPECT_EQ(other_thread, "");
  anser_model* model = nullptr;
  EXPECT_EQ(anser_model_load(nullptr, &model), ANSER_ERROR_INVALID_ARGUMENT);
  ExpectMessage("anser_model_load", "path is NULL");
  anser_tokenizer* bytes = nullptr;
  ASSERT_ANSER_OK(anser_tokenizer_new_bytes(&bytes));
  anser_tokenizer_free(bytes);
  ExpectMessage("anser_model_load", "path is NULL");
  std::thread([&] { other_thread = anser_last_error(); }).join();
  EXPECT_EQ(other_thread, "");
  EXPECT_EQ(model, nullptr);
}

TEST(CapiModel, LoadsEveryFormatWithItsConfiguration) {
  const Model pth(FixturePath("rand-rwkv7-L3-D128-world/model.bf16.pth"));
  const anser_model_config c = pth.Config();
  EXPECT_EQ(c.struct_size, sizeof c);
  EXPECT_EQ(c.n_layer, 3);
  EXPECT_EQ(c.n_embd, 128);
  EXPECT_EQ(c.n_head, 2);
  EXPECT_EQ(c.head_size, 64);
  EXPECT_EQ(c.n_vocab, 65536);
  EXPECT_EQ(c.lora_rank_w, 16);
  EXPECT_EQ(c.lora_rank_a, 16);
  EXPECT_EQ(c.lora_rank_v, 8);
  EXPECT_EQ(c.lora_rank_g, 32);
  EXPECT_GT(c.n_params, 2 * 65536 * 128);

  const Model hf(FixturePath("rand-rwkv7-L3-D128-world/hf"));
  const anser_model_config h = hf.Config();
  EXPECT_EQ(std::memcmp(&h, &c, sizeof c), 0);

  const Model gguf(FixturePath("gguf-quants/model.q8_0.pure.gguf"));
  const anser_model_config g = gguf.Config();
  EXPECT_EQ(g.n_layer, 2);
  EXPECT_EQ(g.n_embd, 256);
  EXPECT_EQ(g.n_vocab, 1024);
}

TEST(CapiModel, LoadErrorsSayWhatIsWrong) {
  anser_model* model = nullptr;
  const std::string missing = testing::ScratchPath("missing.pth");
  EXPECT_EQ(anser_model_load(missing.c_str(), &model), ANSER_ERROR_FILE);
  ExpectMessage("anser_model_load", "'" + missing + "' not found");
  const std::string not_a_model = FixturePath("tiny-rwkv7-834K/cases.json");
  EXPECT_EQ(anser_model_load(not_a_model.c_str(), &model), ANSER_ERROR_FILE);
  EXPECT_NE(std::string(anser_last_error()), "");
  EXPECT_EQ(anser_model_load(not_a_model.c_str(), nullptr), ANSER_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(model, nullptr);
  anser_model_free(nullptr);
}

// A caller built against a later anser.h, whose config has one more field.
struct LaterConfig {
  anser_model_config v1;
  int64_t added;
};

TEST(CapiModel, ConfigStructSizeGuardsEachSide) {
  const Model model(FixturePath("tiny-rwkv7-834K/model.fp32.pth"));
  anser_model_config small{};
  small.struct_size = offsetof(anser_model_config, n_params);
  EXPECT_EQ(anser_model_get_config(model.m, &small), ANSER_ERROR_INVALID_ARGUMENT);
  ExpectMessage("anser_model_get_config", "sizeof(anser_model_config)");
  EXPECT_EQ(small.n_layer, 0);

  LaterConfig later{};
  later.v1.struct_size = sizeof later;
  later.added = 12345;
  ASSERT_ANSER_OK(anser_model_get_config(model.m, &later.v1));
  EXPECT_EQ(later.v1.struct_size, sizeof later);
  EXPECT_EQ(later.v1.n_layer, 12);
  EXPECT_EQ(later.v1.n_vocab, 256);
  EXPECT_EQ(later.added, 12345);  // a field this library does not know stays as it was
  EXPECT_EQ(anser_model_get_config(model.m, nullptr), ANSER_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(anser_model_get_config(nullptr, &small), ANSER_ERROR_INVALID_ARGUMENT);
}

class CapiFixture : public ::testing::TestWithParam<std::string> {};

TEST_P(CapiFixture, PrefillAllPositionsMatchesReference) {
  const testing::Fixture f = testing::ReadFixture(GetParam());
  for (const testing::FixtureCase& c : f.cases) {
    const Model model(f.dir + "/" + c.model);
    Session session(model.m);
    State state(model.m);
    std::vector<float> logits(c.tokens.size() * f.vocab);
    ASSERT_ANSER_OK(anser_session_prefill(session.s, state.s, c.tokens.data(), c.tokens.size(), 1,
                                          logits.data(), logits.size()));
    ExpectRowsMatch(c, logits, f.vocab);
  }
}

TEST_P(CapiFixture, StepsAndLastPositionPrefillMatchReference) {
  const testing::Fixture f = testing::ReadFixture(GetParam());
  const testing::FixtureCase& c = f.cases.front();
  const Model model(f.dir + "/" + c.model);
  Session session(model.m);
  State stepped(model.m);
  std::vector<float> all(c.tokens.size() * f.vocab);
  for (size_t t = 0; t < c.tokens.size(); ++t) {
    ASSERT_ANSER_OK(
        anser_session_step(session.s, stepped.s, c.tokens[t], all.data() + t * f.vocab, f.vocab));
  }
  ExpectRowsMatch(c, all, f.vocab);
  ASSERT_EQ(c.positions.back() + 1, static_cast<int>(c.tokens.size()));
  State prefilled(model.m);
  std::vector<float> last(f.vocab);
  ASSERT_ANSER_OK(anser_session_prefill(session.s, prefilled.s, c.tokens.data(), c.tokens.size(), 0,
                                        last.data(), last.size()));
  EXPECT_EQ(CompareRow(last.data(), c.logits.data() + (c.positions.size() - 1) * f.vocab, f.vocab),
            "");
}

INSTANTIATE_TEST_SUITE_P(Fixtures, CapiFixture,
                         ::testing::Values("tiny-rwkv7-834K", "rand-rwkv7-L2-D128-fp32",
                                           "rand-rwkv7-L3-D128-world"));

TEST(CapiSession, BatchedStepMatchesTheReferenceOfEachSequence) {
  const testing::Fixture f = testing::ReadFixture("tiny-rwkv7-834K");
  const testing::FixtureCase& hello = f.cases[1];
  const testing::FixtureCase& story = f.cases[2];
  ASSERT_EQ(hello.name, "hello");
  ASSERT_EQ(story.name, "story");
  const Model model(f.dir + "/" + hello.model);
  Session session(model.m);
  State a(model.m), b(model.m);
  anser_state* states[] = {a.s, b.s};
  std::vector<float> logits(2 * f.vocab);
  std::vector<float> hello_rows, story_rows;
  for (size_t t = 0; t < hello.tokens.size(); ++t) {
    const int32_t tokens[] = {hello.tokens[t], story.tokens[t]};
    ASSERT_ANSER_OK(
        anser_session_step_batch(session.s, states, tokens, 2, logits.data(), logits.size()));
    hello_rows.insert(hello_rows.end(), logits.begin(), logits.begin() + f.vocab);
    story_rows.insert(story_rows.end(), logits.begin() + f.vocab, logits.end());
  }
  ExpectRowsMatch(hello, hello_rows, f.vocab);
  testing::FixtureCase story_prefix = story;
  story_prefix.positions.resize(hello.tokens.size());
  ExpectRowsMatch(story_prefix, story_rows, f.vocab);
}

TEST(CapiSession, ErrorsLeaveTheStateAsItWas) {
  const Model model(FixturePath("tiny-rwkv7-834K/model.fp32.pth"));
  const Model other(FixturePath("rand-rwkv7-L2-D128-fp32/model.fp32.pth"));
  Session session(model.m);
  State state(model.m), foreign(other.m);
  const int32_t warm[] = {72, 105};
  ASSERT_ANSER_OK(anser_session_prefill(session.s, state.s, warm, 2, 0, nullptr, 0));
  const std::vector<float> before = state.All();
  std::vector<float> logits(256);

  EXPECT_EQ(anser_session_step(session.s, state.s, 256, logits.data(), logits.size()),
            ANSER_ERROR_INVALID_ARGUMENT);
  ExpectMessage("anser_session_step", "token 256 is outside the model's vocabulary [0, 256)");
  EXPECT_EQ(anser_session_step(session.s, state.s, -1, logits.data(), logits.size()),
            ANSER_ERROR_INVALID_ARGUMENT);
  const int32_t bad_prompt[] = {1, 2, 300};
  EXPECT_EQ(anser_session_prefill(session.s, state.s, bad_prompt, 3, 1, nullptr, 0),
            ANSER_ERROR_INVALID_ARGUMENT);
  ExpectMessage("anser_session_prefill", "token 300 at position 2");
  EXPECT_EQ(anser_session_step(session.s, foreign.s, 1, logits.data(), logits.size()),
            ANSER_ERROR_INVALID_ARGUMENT);
  ExpectMessage("anser_session_step",
                "state was made for a model of 2 layers of 128 channels (4 heads of 32)");
  EXPECT_EQ(anser_session_step(session.s, state.s, 1, logits.data(), 255),
            ANSER_ERROR_BUFFER_TOO_SMALL);
  ExpectMessage("anser_session_step", "logits holds 255 floats, but this call writes 256");
  const int32_t two[] = {1, 2};
  EXPECT_EQ(anser_session_prefill(session.s, state.s, two, 2, 1, logits.data(), logits.size()),
            ANSER_ERROR_BUFFER_TOO_SMALL);
  ExpectMessage("anser_session_prefill", "this call writes 512");
  EXPECT_EQ(anser_session_prefill(session.s, state.s, nullptr, 2, 0, nullptr, 0),
            ANSER_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(anser_session_step(nullptr, state.s, 1, nullptr, 0), ANSER_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(anser_session_step(session.s, nullptr, 1, nullptr, 0), ANSER_ERROR_INVALID_ARGUMENT);
  anser_state* twice[] = {state.s, state.s};
  EXPECT_EQ(anser_session_step_batch(session.s, twice, two, 2, nullptr, 0),
            ANSER_ERROR_INVALID_ARGUMENT);
  ExpectMessage("anser_session_step_batch", "states[1] appears twice");
  anser_state* mixed[] = {state.s, foreign.s};
  EXPECT_EQ(anser_session_step_batch(session.s, mixed, two, 2, nullptr, 0),
            ANSER_ERROR_INVALID_ARGUMENT);
  ExpectMessage("anser_session_step_batch", "states[1] was made for");
  EXPECT_EQ(anser_session_prefill(session.s, state.s, nullptr, 0, 1, nullptr, 0), ANSER_OK);
  EXPECT_EQ(anser_session_step_batch(session.s, nullptr, nullptr, 0, nullptr, 0), ANSER_OK);
  EXPECT_EQ(state.All(), before);
}

TEST(CapiSession, SessionsOnTwoThreadsShareOneModel) {
  const testing::Fixture f = testing::ReadFixture("tiny-rwkv7-834K");
  const testing::FixtureCase& story = f.cases[2];
  const Model model(f.dir + "/" + story.model);
  std::vector<float> results[2];
  std::vector<std::thread> threads;
  for (std::vector<float>& out : results) {
    threads.emplace_back([&] {
      Session session(model.m);
      State state(model.m);
      out.resize(story.tokens.size() * f.vocab);
      for (size_t t = 0; t < story.tokens.size(); ++t) {
        EXPECT_EQ(anser_session_step(session.s, state.s, story.tokens[t], out.data() + t * f.vocab,
                                     f.vocab),
                  ANSER_OK);
      }
    });
  }
  for (std::thread& t : threads) t.join();
  ExpectRowsMatch(story, results[0], f.vocab);
  ExpectRowsMatch(story, results[1], f.vocab);
}

TEST(CapiState, NewCopyResetAndRawBuffers) {
  const Model model(FixturePath("rand-rwkv7-L2-D128-fp32/model.fp32.pth"));
  State state(model.m);
  EXPECT_EQ(state.Part(ANSER_STATE_ATT_SHIFT), std::vector<float>(2 * 128, 0.0f));
  EXPECT_EQ(state.Part(ANSER_STATE_WKV), std::vector<float>(2 * 4 * 32 * 32, 0.0f));
  EXPECT_EQ(state.Part(ANSER_STATE_FFN_SHIFT), std::vector<float>(2 * 128, 0.0f));
  Session session(model.m);
  const int32_t tokens[] = {5, 17, 300};
  ASSERT_ANSER_OK(anser_session_prefill(session.s, state.s, tokens, 3, 0, nullptr, 0));
  const std::vector<float> after = state.All();
  EXPECT_NE(after, std::vector<float>(after.size(), 0.0f));

  State copy;
  ASSERT_ANSER_OK(anser_state_copy(state.s, &copy.s));
  EXPECT_EQ(copy.All(), after);
  ASSERT_ANSER_OK(anser_state_reset(state.s));
  EXPECT_EQ(state.All(), std::vector<float>(after.size(), 0.0f));
  EXPECT_EQ(copy.All(), after);

  // Writing the raw buffers writes the state: a state rebuilt from another's floats continues
  // exactly as that one does.
  for (anser_state_part part : {ANSER_STATE_ATT_SHIFT, ANSER_STATE_WKV, ANSER_STATE_FFN_SHIFT}) {
    float* data = nullptr;
    size_t count = 0;
    ASSERT_ANSER_OK(anser_state_data(state.s, part, &data, &count));
    const std::vector<float> source = copy.Part(part);
    ASSERT_EQ(count, source.size());
    std::memcpy(data, source.data(), count * sizeof(float));
  }
  std::vector<float> a(512), b(512);
  ASSERT_ANSER_OK(anser_session_step(session.s, state.s, 9, a.data(), a.size()));
  ASSERT_ANSER_OK(anser_session_step(session.s, copy.s, 9, b.data(), b.size()));
  EXPECT_EQ(a, b);

  float* data = nullptr;
  size_t count = 0;
  EXPECT_EQ(anser_state_data(state.s, static_cast<anser_state_part>(3), &data, &count),
            ANSER_ERROR_INVALID_ARGUMENT);
  ExpectMessage("anser_state_data", "part 3 is not a state part");
  EXPECT_EQ(anser_state_new(nullptr, &copy.s), ANSER_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(anser_state_copy(nullptr, &copy.s), ANSER_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(anser_state_reset(nullptr), ANSER_ERROR_INVALID_ARGUMENT);
  anser_state_free(nullptr);
}

TEST(CapiState, FileRoundTripContinuesBitExactly) {
  const Model model(FixturePath("tiny-rwkv7-834K/model.fp32.pth"));
  Session session(model.m);
  State state(model.m);
  const int32_t prompt[] = {84, 111, 32, 98, 101};
  ASSERT_ANSER_OK(anser_session_prefill(session.s, state.s, prompt, 5, 0, nullptr, 0));
  const std::string path = testing::ScratchPath("state.pth");
  ASSERT_ANSER_OK(anser_state_save(state.s, path.c_str()));
  State loaded;
  ASSERT_ANSER_OK(anser_state_load(model.m, path.c_str(), &loaded.s));
  EXPECT_EQ(loaded.All(), state.All());
  std::vector<float> a(256), b(256);
  ASSERT_ANSER_OK(anser_session_step(session.s, state.s, 32, a.data(), a.size()));
  ASSERT_ANSER_OK(anser_session_step(session.s, loaded.s, 32, b.data(), b.size()));
  EXPECT_EQ(a, b);

  const Model other(FixturePath("rand-rwkv7-L2-D128-fp32/model.fp32.pth"));
  State wrong;
  EXPECT_EQ(anser_state_load(other.m, path.c_str(), &wrong.s), ANSER_ERROR_FILE);
  ExpectMessage("anser_state_load", "but this model needs f32");
  EXPECT_EQ(wrong.s, nullptr);
  EXPECT_EQ(
      anser_state_load(model.m, FixturePath("tiny-rwkv7-834K/model.fp32.pth").c_str(), &wrong.s),
      ANSER_ERROR_FILE);
  ExpectMessage("anser_state_load", "not an Anser state file");
  const std::string unwritable = testing::ScratchPath("no_such_folder/state.pth");
  EXPECT_EQ(anser_state_save(state.s, unwritable.c_str()), ANSER_ERROR_FILE);
  EXPECT_NE(std::string(anser_last_error()).find("anser_state_save: "), std::string::npos);
  EXPECT_EQ(anser_state_save(state.s, nullptr), ANSER_ERROR_INVALID_ARGUMENT);
}

std::vector<int32_t> Encode(const anser_tokenizer* t, const std::string& text) {
  std::vector<int32_t> ids(text.size());
  size_t n = 0;
  EXPECT_EQ(anser_tokenizer_encode(t, text.data(), text.size(), ids.data(), ids.size(), &n),
            ANSER_OK)
      << anser_last_error();
  ids.resize(n);
  return ids;
}

std::string Decode(const anser_tokenizer* t, const std::vector<int32_t>& ids) {
  size_t len = 0;
  EXPECT_EQ(anser_tokenizer_decode(t, ids.data(), ids.size(), nullptr, 0, &len),
            ANSER_ERROR_BUFFER_TOO_SMALL);
  std::string text(len + 1, '?');
  EXPECT_EQ(anser_tokenizer_decode(t, ids.data(), ids.size(), text.data(), text.size(), &len),
            ANSER_OK)
      << anser_last_error();
  EXPECT_EQ(text[len], '\0');
  text.resize(len);
  return text;
}

TEST(CapiTokenizer, WorldReproducesTheReferenceIdsWithEitherCopyOfTheVocabulary) {
  Tokenizer shared, installed;
  ASSERT_ANSER_OK(anser_tokenizer_load_world(SharedVocab().c_str(), &shared.t));
  ::unsetenv("ANSER_VOCAB");
  // The build tree lays out the library as installed: lib/libanser.so beside share/anser/.
  ASSERT_ANSER_OK(anser_tokenizer_load_world(nullptr, &installed.t));
  EXPECT_EQ(anser_tokenizer_vocab_size(shared.t), 65530);  // largest id + 1
  EXPECT_EQ(anser_tokenizer_vocab_size(installed.t), 65530);
  std::ifstream in(FixturePath("tokenizer/world_cases.json"));
  const nlohmann::json cases = nlohmann::json::parse(in).at("cases");
  ASSERT_FALSE(cases.empty());
  for (const nlohmann::json& c : cases) {
    const std::string text = c.at("text").get<std::string>();
    const std::vector<int32_t> ids = c.at("ids").get<std::vector<int32_t>>();
    EXPECT_EQ(Encode(shared.t, text), ids) << c.at("name");
    EXPECT_EQ(Encode(installed.t, text), ids) << c.at("name");
    EXPECT_EQ(Decode(installed.t, ids), text) << c.at("name");
  }
}

TEST(CapiTokenizer, BytesTokenBytesAndBufferSizes) {
  Tokenizer bytes;
  ASSERT_ANSER_OK(anser_tokenizer_new_bytes(&bytes.t));
  EXPECT_EQ(anser_tokenizer_vocab_size(bytes.t), 256);
  const std::string text("a\0\xff", 3);
  EXPECT_EQ(Encode(bytes.t, text), (std::vector<int32_t>{97, 0, 255}));
  EXPECT_EQ(Decode(bytes.t, {104, 105}), "hi");
  const char* piece = nullptr;
  size_t len = 0;
  ASSERT_ANSER_OK(anser_tokenizer_token_bytes(bytes.t, 65, &piece, &len));
  EXPECT_EQ(std::string(piece, len), "A");

  int32_t ids[2];
  size_t n = 0;
  EXPECT_EQ(anser_tokenizer_encode(bytes.t, "abc", 3, ids, 2, &n), ANSER_ERROR_BUFFER_TOO_SMALL);
  EXPECT_EQ(n, 3u);
  ExpectMessage("anser_tokenizer_encode", "ids holds 2 ids, the text has 3");
  EXPECT_EQ(anser_tokenizer_encode(bytes.t, "abc", 3, nullptr, 0, &n),
            ANSER_ERROR_BUFFER_TOO_SMALL);
  EXPECT_EQ(n, 3u);
  ASSERT_ANSER_OK(anser_tokenizer_encode(bytes.t, nullptr, 0, nullptr, 0, &n));
  EXPECT_EQ(n, 0u);
  char small[2];
  const int32_t hi[] = {104, 105};
  EXPECT_EQ(anser_tokenizer_decode(bytes.t, hi, 2, small, sizeof small, &len),
            ANSER_ERROR_BUFFER_TOO_SMALL);
  EXPECT_EQ(len, 2u);
  ExpectMessage("anser_tokenizer_decode", "needs 3 (with its terminating NUL)");
  const int32_t out_of_range[] = {104, 256};
  EXPECT_EQ(anser_tokenizer_decode(bytes.t, out_of_range, 2, small, sizeof small, &len),
            ANSER_ERROR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(anser_last_error()).find("256"), std::string::npos) << anser_last_error();
  EXPECT_EQ(anser_tokenizer_token_bytes(bytes.t, 256, &piece, &len), ANSER_ERROR_INVALID_ARGUMENT);
  ExpectMessage("anser_tokenizer_token_bytes", "token id 256 is outside the vocabulary [0, 256)");
  EXPECT_EQ(anser_tokenizer_vocab_size(nullptr), 0);
}

TEST(CapiTokenizer, WorldTokenZeroAndMissingFiles) {
  Tokenizer world;
  ASSERT_ANSER_OK(anser_tokenizer_load_world(SharedVocab().c_str(), &world.t));
  const char* piece = "unchanged";
  size_t len = 7;
  ASSERT_ANSER_OK(anser_tokenizer_token_bytes(world.t, 0, &piece, &len));
  EXPECT_EQ(len, 0u);
  EXPECT_STREQ(piece, "");
  Tokenizer missing;
  const std::string path = testing::ScratchPath("missing_vocab.txt");
  EXPECT_EQ(anser_tokenizer_load_world(path.c_str(), &missing.t), ANSER_ERROR_FILE);
  ExpectMessage("anser_tokenizer_load_world", path);
  EXPECT_EQ(missing.t, nullptr);
  // Without a path, the installed copy, whatever $ANSER_VOCAB says (that is for models' lookup).
  ::setenv("ANSER_VOCAB", path.c_str(), 1);
  Tokenizer installed;
  EXPECT_EQ(anser_tokenizer_load_world(nullptr, &installed.t), ANSER_OK) << anser_last_error();
  ::unsetenv("ANSER_VOCAB");
}

TEST(CapiTokenizer, ForModelChoosesAsTheCommandDoes) {
  const Model tiny(FixturePath("tiny-rwkv7-834K/model.fp32.pth"));
  Tokenizer bytes;
  ASSERT_ANSER_OK(anser_tokenizer_for_model(tiny.m, nullptr, &bytes.t));
  EXPECT_EQ(anser_tokenizer_vocab_size(bytes.t), 256);

  const Model world(FixturePath("rand-rwkv7-L3-D128-world/model.bf16.pth"));
  Tokenizer given, found;
  ASSERT_ANSER_OK(anser_tokenizer_for_model(world.m, SharedVocab().c_str(), &given.t));
  EXPECT_EQ(anser_tokenizer_vocab_size(given.t), 65530);
  ::unsetenv("ANSER_VOCAB");
  ASSERT_ANSER_OK(anser_tokenizer_for_model(world.m, nullptr, &found.t));  // the installed copy
  EXPECT_EQ(Encode(found.t, "Hello"), Encode(given.t, "Hello"));

  const Model other(FixturePath("rand-rwkv7-L2-D128-fp32/model.fp32.pth"));
  Tokenizer none;
  EXPECT_EQ(anser_tokenizer_for_model(other.m, nullptr, &none.t), ANSER_ERROR_UNSUPPORTED);
  ExpectMessage("anser_tokenizer_for_model", "vocabulary of 512 tokens");
  EXPECT_EQ(none.t, nullptr);
}

std::string Push(anser_text_stream* stream, const std::string& bytes) {
  const char* text = nullptr;
  size_t len = 0;
  EXPECT_EQ(anser_text_stream_push(stream, bytes.data(), bytes.size(), &text, &len), ANSER_OK)
      << anser_last_error();
  return std::string(text, len);
}

TEST(CapiTextStream, HoldsSplitCharactersAndStopsAtStopStrings) {
  anser_text_stream* stream = nullptr;
  const char* stops[] = {"\n\nUser:", ""};
  ASSERT_ANSER_OK(anser_text_stream_new(stops, 2, &stream));
  EXPECT_EQ(Push(stream, "caf\xC3"), "caf");
  EXPECT_EQ(Push(stream, "\xA9 ok\n"), "\xC3\xA9 ok");
  EXPECT_EQ(anser_text_stream_stopped(stream), 0);
  EXPECT_EQ(Push(stream, "\nUser: more"), "");
  EXPECT_EQ(anser_text_stream_stopped(stream), 1);
  const char* text = nullptr;
  size_t len = 1;
  ASSERT_ANSER_OK(anser_text_stream_flush(stream, &text, &len));
  EXPECT_EQ(len, 0u);
  anser_text_stream_free(stream);

  ASSERT_ANSER_OK(anser_text_stream_new(nullptr, 0, &stream));
  EXPECT_EQ(Push(stream, "\xE2\x82"), "");
  ASSERT_ANSER_OK(anser_text_stream_flush(stream, &text, &len));
  EXPECT_EQ(std::string(text, len), "\xE2\x82");
  EXPECT_EQ(anser_text_stream_push(stream, nullptr, 1, &text, &len), ANSER_ERROR_INVALID_ARGUMENT);
  anser_text_stream_free(stream);

  const char* null_stop[] = {"a", nullptr};
  stream = nullptr;
  EXPECT_EQ(anser_text_stream_new(null_stop, 2, &stream), ANSER_ERROR_INVALID_ARGUMENT);
  ExpectMessage("anser_text_stream_new", "stop_strings[1] is NULL");
  EXPECT_EQ(stream, nullptr);
  EXPECT_EQ(anser_text_stream_stopped(nullptr), 0);
}

anser_sampler_params Params() {
  anser_sampler_params p{};
  p.struct_size = sizeof p;
  EXPECT_EQ(anser_sampler_params_default(&p), ANSER_OK) << anser_last_error();
  return p;
}

TEST(CapiSampler, DefaultsAreTheCommandLineDefaults) {
  const anser_sampler_params p = Params();
  EXPECT_EQ(p.temperature, 1.0f);
  EXPECT_EQ(p.top_p, 0.85f);
  EXPECT_EQ(p.top_k, 0);
  EXPECT_EQ(p.min_p, 0.0f);
  EXPECT_EQ(p.presence_penalty, 0.0f);
  EXPECT_EQ(p.frequency_penalty, 0.0f);
  EXPECT_EQ(p.penalty_decay, 0.996f);
  EXPECT_EQ(p.seed, 0u);
  anser_sampler_params unsized{};
  EXPECT_EQ(anser_sampler_params_default(&unsized), ANSER_ERROR_INVALID_ARGUMENT);
  ExpectMessage("anser_sampler_params_default", "anser_sampler_params.struct_size is 0");
}

TEST(CapiSampler, GreedyPenaltiesAndSeeds) {
  const std::vector<float> logits = {0.0f, 3.0f, 2.5f, -1.0f};
  anser_sampler_params greedy = Params();
  greedy.temperature = 0.0f;
  greedy.presence_penalty = 1.0f;
  anser_sampler* sampler = nullptr;
  ASSERT_ANSER_OK(anser_sampler_new(4, &greedy, &sampler));
  std::vector<float> work = logits;
  int32_t token = -1;
  ASSERT_ANSER_OK(anser_sampler_sample(sampler, work.data(), work.size(), &token));
  EXPECT_EQ(token, 1);
  ASSERT_ANSER_OK(anser_sampler_accept(sampler, 1));
  work = logits;
  ASSERT_ANSER_OK(anser_sampler_sample(sampler, work.data(), work.size(), &token));
  EXPECT_EQ(token, 2);       // 3 - 1 < 2.5
  EXPECT_EQ(work[1], 2.0f);  // the penalty is applied to the caller's logits
  ASSERT_ANSER_OK(anser_sampler_reset(sampler));
  work = logits;
  ASSERT_ANSER_OK(anser_sampler_sample(sampler, work.data(), work.size(), &token));
  EXPECT_EQ(token, 1);
  EXPECT_EQ(anser_sampler_sample(sampler, work.data(), 3, &token), ANSER_ERROR_INVALID_ARGUMENT);
  ExpectMessage("anser_sampler_sample", "n_logits is 3, but the sampler was made for 4 tokens");
  EXPECT_EQ(anser_sampler_accept(sampler, 4), ANSER_ERROR_INVALID_ARGUMENT);
  ExpectMessage("anser_sampler_accept", "token 4 is outside the vocabulary [0, 4)");
  anser_sampler_free(sampler);

  // One call equals the first draw of a fresh sampler with the same seed, and keeps the logits.
  std::vector<float> wide(1000);
  for (size_t i = 0; i < wide.size(); ++i) wide[i] = std::sin(static_cast<float>(i));
  anser_sampler_params random = Params();
  random.top_p = 1.0f;
  for (uint64_t seed : {1u, 2u, 3u}) {
    random.seed = seed;
    const std::vector<float> kept = wide;
    int32_t once = -1, first = -1;
    ASSERT_ANSER_OK(anser_sample_logits(wide.data(), wide.size(), &random, &once));
    EXPECT_EQ(wide, kept);
    ASSERT_ANSER_OK(anser_sampler_new(1000, &random, &sampler));
    ASSERT_ANSER_OK(anser_sampler_sample(sampler, wide.data(), wide.size(), &first));
    anser_sampler_free(sampler);
    wide = kept;
    EXPECT_EQ(once, first);
  }
  EXPECT_EQ(anser_sampler_new(0, nullptr, &sampler), ANSER_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(anser_sample_logits(wide.data(), 0, nullptr, &token), ANSER_ERROR_INVALID_ARGUMENT);
  ASSERT_ANSER_OK(anser_sample_logits(logits.data(), logits.size(), nullptr, &token));
  EXPECT_GE(token, 0);
  EXPECT_LT(token, 4);
}

}  // namespace
}  // namespace anser
