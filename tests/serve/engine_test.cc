// The engine through the Service, in-process: batching, the prefix cache, states, stops.
#include <gtest/gtest.h>

#include <limits>
#include <nlohmann/json.hpp>

#include "anser/tokenizer.h"
#include "model/fixtures.h"
#include "serve_test_util.h"
#include "test_files.h"

namespace anser::serve {
namespace {

using nlohmann::json;
using testing::ChatComplete;
using testing::Complete;
using testing::MakeService;
using testing::Pending;
using testing::TextOf;

constexpr char kWorld[] = "rand-rwkv7-L3-D128-world";

int64_t Cached(const json& r) { return r["usage"]["prompt_tokens_details"]["cached_tokens"].get<int64_t>(); }

// Eight requests with different prompts, greedy and seeded, run alone one after another, then all
// at once (prompts of different lengths, so the batch changes while they run): each returns the
// same tokens both ways.
TEST(Engine, ARequestsTokensDoNotDependOnTheBatch) {
  auto service = MakeService(kWorld);
  std::vector<json> bodies;
  const char* prompts[] = {"The goose", "A", "Once upon a time, in a land far away, there lived", "1 2 3",
                           "Hello, world!", "The quick brown fox jumps over the lazy dog", "x", "RWKV is"};
  for (int i = 0; i < 8; ++i) {
    json body = {{"prompt", prompts[i]}, {"max_tokens", 12 + i}};
    if (i % 2 == 0) {
      body["temperature"] = 0;
    } else {
      body["seed"] = 100 + i;
      body["top_p"] = 0.9;
    }
    bodies.push_back(body);
  }
  std::vector<std::string> alone;
  for (const json& body : bodies) alone.push_back(TextOf(Complete(*service, body)));
  std::vector<std::unique_ptr<Pending>> pending;
  for (const json& body : bodies) pending.push_back(std::make_unique<Pending>(*service, body, Endpoint::kCompletions));
  for (int i = 0; i < 8; ++i) EXPECT_EQ(TextOf(pending[static_cast<size_t>(i)]->Wait()), alone[static_cast<size_t>(i)]) << i;
}

// Choice i of n samples with seed + i, each as a request of its own would.
TEST(Engine, ChoicesAreSeededOneAfterAnother) {
  auto service = MakeService(kWorld);
  const json three = Complete(*service, {{"prompt", "Geese"}, {"max_tokens", 10}, {"seed", 7}, {"n", 3}});
  ASSERT_EQ(three["choices"].size(), 3u);
  for (int i = 0; i < 3; ++i) {
    const json one = Complete(*service, {{"prompt", "Geese"}, {"max_tokens", 10}, {"seed", 7 + i}});
    EXPECT_EQ(TextOf(three, static_cast<size_t>(i)), TextOf(one)) << i;
  }
  EXPECT_EQ(three["usage"]["completion_tokens"], 30);
}

// A three-turn chat with the prefix cache on and off: the same replies; with it on, each later
// turn finds the whole conversation so far cached (the previous reply as the turn renders it).
TEST(Engine, TheCacheChangesNoTokenAndSavesTheConversation) {
  ServiceOptions off;
  off.engine.cache_bytes = 0;
  auto cached = MakeService(kWorld);
  auto uncached = MakeService(kWorld, off);
  json messages = json::array();
  for (const char* message : {"Hi there", "Tell me about geese.", "Thanks!"}) {
    messages.push_back({{"role", "user"}, {"content", message}});
    const json body = {{"messages", messages}, {"max_tokens", 16}, {"seed", 3}};
    const json with = ChatComplete(*cached, body);
    const json without = ChatComplete(*uncached, body);
    const std::string reply = TextOf(with);
    EXPECT_EQ(reply, TextOf(without));
    EXPECT_EQ(Cached(without), 0);
    if (messages.size() > 1) {
      // Everything before "User: <new message>\n\nAssistant:" was cached.
      json before = messages;
      before.erase(before.end() - 1);
      std::vector<ChatMessage> history;
      for (const json& m : before) {
        history.push_back({m["role"] == "user" ? Role::kUser : Role::kAssistant, m["content"].get<std::string>()});
      }
      const std::string prefix = RenderChat(ChatTemplate{}, history, /*open_reply=*/false);
      EXPECT_EQ(Cached(with), static_cast<int64_t>(cached->tokenizer()->Encode(prefix).size())) << messages.dump();
    }
    messages.push_back({{"role", "assistant"}, {"content", reply}});
  }
}

// The same request twice: the second is a full hit (its logits were kept) and gives the same text.
TEST(Engine, ARepeatedPromptNeedsNoModelStep) {
  auto service = MakeService(kWorld);
  const json body = {{"prompt", "Repeat after me"}, {"max_tokens", 8}, {"temperature", 0}};
  const json first = Complete(*service, body);
  const json second = Complete(*service, body);
  EXPECT_EQ(TextOf(first), TextOf(second));
  EXPECT_EQ(Cached(second), second["usage"]["prompt_tokens"].get<int64_t>());
}

// A chat turn saved with save_state, continued from its state with only the new message, gives
// what the whole conversation gives.
TEST(Engine, ASavedStateContinuesTheConversation) {
  ServiceOptions off;
  off.engine.cache_bytes = 0;  // so that the whole conversation is really fed again
  auto service = MakeService(kWorld, off);
  const json first = ChatComplete(
      *service, {{"messages", {{{"role", "user"}, {"content", "Hi"}}}}, {"max_tokens", 12}, {"seed", 5}, {"save_state", true}});
  ASSERT_TRUE(first.contains("state_id")) << first.dump();
  const json turn = {{"role", "user"}, {"content", "And then?"}};
  const json from_state =
      ChatComplete(*service, {{"messages", {turn}}, {"state", first["state_id"]}, {"max_tokens", 12}, {"seed", 9}});
  const json whole = ChatComplete(*service, {{"messages",
                                              {{{"role", "user"}, {"content", "Hi"}},
                                               {{"role", "assistant"}, {"content", TextOf(first)}},
                                               turn}},
                                             {"max_tokens", 12},
                                             {"seed", 9}});
  EXPECT_EQ(TextOf(from_state), TextOf(whole));
  EXPECT_LT(from_state["usage"]["prompt_tokens"].get<int>(), whole["usage"]["prompt_tokens"].get<int>());
}

// A stop string spanning tokens ends the text just before it.
TEST(Engine, StopStringsAcrossTokenBoundaries) {
  auto service = MakeService(kWorld);
  const json body = {{"prompt", "Stop here"}, {"max_tokens", 24}, {"temperature", 0}};
  const std::string full = TextOf(Complete(*service, body));
  ASSERT_GE(full.size(), 12u);
  // A stop string made of the end of one token and the start of later ones.
  const json pieces = Complete(*service, {{"prompt", "Stop here"}, {"max_tokens", 24}, {"temperature", 0}, {"logprobs", 0}});
  const json& offsets = pieces["choices"][0]["logprobs"]["text_offset"];
  ASSERT_GE(offsets.size(), 4u);
  const size_t cut = offsets[2].get<size_t>() - 1;  // the last byte of the second token
  json stopped_body = body;
  stopped_body["stop"] = {"zzz-never", full.substr(cut, 3)};
  const json stopped = Complete(*service, stopped_body);
  EXPECT_EQ(TextOf(stopped), full.substr(0, full.find(full.substr(cut, 3))));
  EXPECT_EQ(stopped["choices"][0]["finish_reason"], "stop");
}

// Completions end at token 0; chats never sample it.
TEST(Engine, EndOfTextEndsACompletionAndIsBannedInAChat) {
  auto service = MakeService(kWorld);
  const json completion = Complete(*service, {{"prompt", "x"}, {"max_tokens", 10}, {"logit_bias", {{"0", 100}}}});
  EXPECT_EQ(TextOf(completion), "");
  EXPECT_EQ(completion["choices"][0]["finish_reason"], "stop");
  EXPECT_EQ(completion["usage"]["completion_tokens"], 0);
  const json chat = ChatComplete(
      *service, {{"messages", {{{"role", "user"}, {"content", "x"}}}}, {"max_tokens", 10}, {"logit_bias", {{"0", 100}}}});
  EXPECT_EQ(chat["choices"][0]["finish_reason"], "length");
  EXPECT_EQ(chat["usage"]["completion_tokens"], 10);
}

TEST(Engine, LogprobsOfGreedyTokensAreTheTopOnes) {
  auto service = MakeService(kWorld);
  const json r = ChatComplete(*service, {{"messages", {{{"role", "user"}, {"content", "x"}}}},
                                         {"max_tokens", 5},
                                         {"temperature", 0},
                                         {"presence_penalty", 0},
                                         {"frequency_penalty", 0},
                                         {"logprobs", true},
                                         {"top_logprobs", 3}});
  const json& content = r["choices"][0]["logprobs"]["content"];
  ASSERT_EQ(content.size(), 5u);
  std::string joined;
  for (const json& t : content) {
    ASSERT_EQ(t["top_logprobs"].size(), 3u);
    EXPECT_EQ(t["token"], t["top_logprobs"][0]["token"]);
    EXPECT_FLOAT_EQ(t["logprob"].get<float>(), t["top_logprobs"][0]["logprob"].get<float>());
    EXPECT_LE(t["logprob"].get<float>(), 0.0f);
    EXPECT_GE(t["top_logprobs"][0]["logprob"].get<float>(), t["top_logprobs"][1]["logprob"].get<float>());
    const std::vector<uint8_t> bytes = t["bytes"];
    joined.append(bytes.begin(), bytes.end());
  }
  EXPECT_EQ(joined, TextOf(r));
}

TEST(Engine, ZeroMaxTokensGiveNoText) {
  auto service = MakeService(kWorld);
  const json none = Complete(*service, {{"prompt", "x"}, {"max_tokens", 0}});
  EXPECT_EQ(TextOf(none), "");
  EXPECT_EQ(none["choices"][0]["finish_reason"], "length");
  EXPECT_EQ(none["usage"]["completion_tokens"], 0);
}

TEST(Engine, ARequestPastItsTimeEndsWithATimeout) {
  ServiceOptions quick;
  quick.timeout_s = 3;
  quick.limits.max_tokens_limit = 1 << 20;
  auto service = MakeService(kWorld, quick);
  // Far more tokens than three seconds allow (token 0, which would end it, biased away).
  const json slow =
      Complete(*service, {{"prompt", "x"}, {"max_tokens", 1 << 20}, {"logit_bias", {{"0", -100}}}});
  ASSERT_TRUE(slow.contains("error")) << slow.dump().substr(0, 300);
  EXPECT_EQ(slow["error"]["code"], "timeout");
  EXPECT_EQ(slow["error"]["type"], "timeout_error");
  // The engine keeps serving (the prompt is cached: this needs no model step).
  const json after = Complete(*service, {{"prompt", "x"}, {"max_tokens", 0}});
  EXPECT_EQ(after["choices"][0]["finish_reason"], "length") << after.dump();
}

// The byte-level model: chat works with bytes, and the queue refuses what does not fit.
TEST(Engine, ByteModelAndAFullQueue) {
  ServiceOptions narrow;
  narrow.engine.parallel = 1;
  narrow.engine.queue = 1;
  narrow.limits.max_tokens_limit = 1 << 20;
  auto service = MakeService("tiny-rwkv7-834K", narrow);
  Pending running(*service, {{"prompt", "ROMEO:"}, {"max_tokens", 1 << 20}, {"temperature", 0}}, Endpoint::kCompletions);
  running.WaitStarted();
  // The first request holds the only slot, the second the only queue place: a third cannot be taken.
  Pending second(*service, {{"prompt", "JULIET:"}, {"max_tokens", 4}}, Endpoint::kCompletions);
  Pending third(*service, {{"prompt", "x"}, {"max_tokens", 4}}, Endpoint::kCompletions);
  const json refused = third.Wait();
  EXPECT_EQ(refused["error"]["type"], "rate_limit_error");
  service->engine().Shutdown({503, "unavailable_error", "server shutting down", "", ""});
  EXPECT_EQ(running.Wait()["error"]["message"], "server shutting down");
  EXPECT_EQ(second.Wait()["error"]["message"], "server shutting down");
}

// Weights holding a NaN: each request ends with a server error naming the first layer and
// quantity where a non-finite value appears (a checked re-run of the token), and the server goes
// on answering requests.
TEST(Engine, NonFiniteLogitsEndTheRequestWithAServerErrorNamingTheLayer) {
  const std::string fixture = anser::testing::SharedDir() + "/fixtures/tiny-rwkv7-834K/model.fp32.pth";
  const std::string path = anser::testing::WriteDamagedCopy(
      fixture, anser::testing::ScratchPath("nan.pth"), {{"blocks.1.ffn.value.weight", std::numeric_limits<float>::quiet_NaN()}});
  auto model = Model::Load(path);
  ASSERT_TRUE(model.ok()) << model.message();
  ServiceOptions options;
  options.engine.threads = 2;
  Service service(std::move(*model), MakeByteTokenizer(), ChatTemplate{}, nullptr, options);
  for (const char* prompt : {"ROMEO:", "JULIET:"}) {
    const json r = Complete(service, {{"prompt", prompt}, {"max_tokens", 4}});
    EXPECT_EQ(r["error"]["type"], "server_error") << r;
    const std::string message = r["error"]["message"];
    EXPECT_NE(message.find("non-finite logit"), std::string::npos) << message;
    EXPECT_NE(message.find("the first non-finite value is in layer 1, ffn output (W_v_ffn·hidden)"), std::string::npos)
        << message;
  }
}

}  // namespace
}  // namespace anser::serve
