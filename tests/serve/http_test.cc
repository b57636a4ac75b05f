// The real server, started as `anser serve` on a free loopback port, driven over HTTP.
#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <future>
#include <nlohmann/json.hpp>

#include "server_process.h"
#include "test_files.h"

namespace anser::serve {
namespace {

using nlohmann::json;
using testing::ServerProcess;

const std::string kShared = ANSER_SHARED_DIR;
const std::string kWorldModel = kShared + "/fixtures/rand-rwkv7-L3-D128-world/model.bf16.pth";
const std::string kVocab = kShared + "/vocab/rwkv_vocab_v20230424.txt";

std::vector<std::string> WorldArgs(std::vector<std::string> more = {}) {
  std::vector<std::string> args = {"-m", kWorldModel, "--vocab", kVocab, "--threads", "2", "--served-model-name", "goose"};
  args.insert(args.end(), more.begin(), more.end());
  return args;
}

struct Reply {
  int status = 0;
  json body;
  httplib::Headers headers;
};

Reply Send(const ServerProcess& server, const std::string& method, const std::string& path, const std::string& body = "",
           httplib::Headers headers = {}) {
  httplib::Client client("127.0.0.1", server.port());
  client.set_read_timeout(60);
  httplib::Result r = method == "GET"      ? client.Get(path, headers)
                      : method == "DELETE" ? client.Delete(path, headers)
                      : method == "PUT"    ? client.Put(path, headers, body, "application/octet-stream")
                                           : client.Post(path, headers, body, "application/json");
  if (!r) return {};
  Reply reply{r->status, json::parse(r->body, nullptr, false), r->headers};
  if (reply.body.is_discarded()) reply.body = r->body;
  return reply;
}

Reply Post(const ServerProcess& server, const std::string& path, const json& body, httplib::Headers headers = {}) {
  return Send(server, "POST", path, body.dump(), std::move(headers));
}

// The data lines of a Server-Sent-Events stream, read until its end, or until `on_event`
// returns false (then the connection is dropped, as a client going away does).
struct Events {
  int status = 0;
  std::vector<std::string> data;
};
Events Stream(const ServerProcess& server, const std::string& path, const json& body,
              const std::function<bool(const std::string&)>& on_event = nullptr) {
  httplib::Client client("127.0.0.1", server.port());
  client.set_read_timeout(60);
  Events events;
  std::string pending;
  httplib::Request req;
  req.method = "POST";
  req.path = path;
  req.body = body.dump();
  req.set_header("Content-Type", "application/json");
  req.response_handler = [&](const httplib::Response& res) {
    events.status = res.status;
    return true;
  };
  req.content_receiver = [&](const char* data, size_t size, uint64_t, uint64_t) {
    pending.append(data, size);
    size_t end;
    while ((end = pending.find("\n\n")) != std::string::npos) {
      const std::string event = pending.substr(0, end);
      pending.erase(0, end + 2);
      EXPECT_EQ(event.rfind("data: ", 0), 0u) << event;
      events.data.push_back(event.substr(6));
      if (on_event && !on_event(events.data.back())) return false;
    }
    return true;
  };
  client.send(req);
  return events;
}

class ServeHttp : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { server_ = ServerProcess::Start(WorldArgs({"--body-limit-mb", "1"})).release(); }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }
  void SetUp() override { ASSERT_NE(server_, nullptr); }
  static ServerProcess* server_;
};
ServerProcess* ServeHttp::server_ = nullptr;

TEST_F(ServeHttp, HealthModelsPageAndMetrics) {
  EXPECT_EQ(Send(*server_, "GET", "/health").body, json({{"status", "ok"}}));
  const Reply models = Send(*server_, "GET", "/v1/models");
  EXPECT_EQ(models.body["data"][0]["id"], "goose");
  EXPECT_EQ(models.body["object"], "list");
  const Reply page = Send(*server_, "GET", "/");
  EXPECT_EQ(page.status, 200);
  EXPECT_NE(page.body.get<std::string>().find("<title>Anser chat</title>"), std::string::npos);
  ASSERT_EQ(Post(*server_, "/v1/completions", {{"prompt", "m"}, {"max_tokens", 2}}).status, 200);
  const std::string metrics = Send(*server_, "GET", "/metrics").body.get<std::string>();
  for (const char* name : {"anser_requests_total{status=\"200\"}", "anser_prompt_tokens_total", "anser_generated_tokens_total",
                           "anser_requests_active", "anser_requests_queued", "anser_state_cache_hits_total",
                           "anser_state_cache_misses_total", "anser_state_cache_bytes", "anser_state_cache_evictions_total",
                           "anser_decode_tokens_per_second"}) {
    EXPECT_NE(metrics.find(std::string(name) + " "), std::string::npos) << name;
  }
}

TEST_F(ServeHttp, CompletionAndChatShapes) {
  const Reply c = Post(*server_, "/v1/completions", {{"prompt", "Hello"}, {"max_tokens", 5}, {"seed", 1}});
  ASSERT_EQ(c.status, 200) << c.body.dump();
  EXPECT_EQ(c.body["object"], "text_completion");
  EXPECT_EQ(c.body["model"], "goose");
  EXPECT_TRUE(c.body["id"].get<std::string>().starts_with("cmpl-"));
  EXPECT_TRUE(c.body["created"].is_number_integer());
  EXPECT_EQ(c.body["choices"][0]["finish_reason"], "length");
  EXPECT_EQ(c.body["usage"]["completion_tokens"], 5);
  EXPECT_EQ(c.body["usage"]["total_tokens"], c.body["usage"]["prompt_tokens"].get<int>() + 5);
  const Reply chat = Post(*server_, "/v1/chat/completions",
                          {{"messages", {{{"role", "user"}, {"content", "Hi"}}}}, {"max_tokens", 4}, {"n", 2}});
  ASSERT_EQ(chat.status, 200) << chat.body.dump();
  EXPECT_EQ(chat.body["object"], "chat.completion");
  ASSERT_EQ(chat.body["choices"].size(), 2u);
  EXPECT_EQ(chat.body["choices"][1]["index"], 1);
  EXPECT_EQ(chat.body["choices"][1]["message"]["role"], "assistant");
  EXPECT_TRUE(chat.body["usage"]["prompt_tokens_details"]["cached_tokens"].is_number_integer());
}

// Token 0 ends a completion; a completion that must run to its length, or past a timeout, has it
// biased away (the sampler's seed is random, and the random model gives token 0 some mass).
json NeverEnds() { return {{"0", -100}}; }

// A stream gives exactly the text the same request gives whole, in OpenAI's chunk shapes.
TEST_F(ServeHttp, StreamsTheSameTextInChunks) {
  const json body = {{"messages", {{{"role", "user"}, {"content", "Stream"}}}}, {"max_tokens", 12}, {"seed", 4}};
  const std::string whole = Post(*server_, "/v1/chat/completions", body).body["choices"][0]["message"]["content"];
  json stream_body = body;
  stream_body["stream"] = true;
  stream_body["stream_options"] = {{"include_usage", true}};
  const Events events = Stream(*server_, "/v1/chat/completions", stream_body);
  EXPECT_EQ(events.status, 200);
  ASSERT_GE(events.data.size(), 4u);
  EXPECT_EQ(events.data.back(), "[DONE]");
  const json first = json::parse(events.data[0]);
  EXPECT_EQ(first["choices"][0]["delta"]["role"], "assistant");
  std::string text;
  std::string id = first["id"];
  for (size_t i = 0; i + 2 < events.data.size(); ++i) {
    const json chunk = json::parse(events.data[i]);
    EXPECT_EQ(chunk["object"], "chat.completion.chunk");
    EXPECT_EQ(chunk["id"], id);
    EXPECT_TRUE(chunk.contains("usage") && chunk["usage"].is_null());
    if (chunk["choices"][0]["delta"].contains("content")) text += chunk["choices"][0]["delta"]["content"].get<std::string>();
  }
  EXPECT_EQ(text, whole);
  EXPECT_EQ(json::parse(events.data[events.data.size() - 3])["choices"][0]["finish_reason"], "length");
  const json usage = json::parse(events.data[events.data.size() - 2]);
  EXPECT_TRUE(usage["choices"].empty());
  EXPECT_EQ(usage["usage"]["completion_tokens"], 12);

  const Events completion =
      Stream(*server_, "/v1/completions",
             {{"prompt", "abc"}, {"max_tokens", 3}, {"stream", true}, {"logprobs", 1}, {"logit_bias", NeverEnds()}});
  ASSERT_GE(completion.data.size(), 3u);
  const json chunk = json::parse(completion.data[0]);
  EXPECT_EQ(chunk["object"], "text_completion");
  EXPECT_TRUE(chunk["choices"][0].contains("text"));
  // A token that ends inside a UTF-8 character is held back with its logprob until the character
  // is whole, so a chunk carries one token or more, and the chunks carry every token once.
  size_t logged_tokens = 0;
  for (const std::string& data : completion.data) {
    if (data == "[DONE]") continue;
    const json logprobs = json::parse(data)["choices"][0]["logprobs"];
    if (logprobs.is_null()) continue;
    EXPECT_GE(logprobs["tokens"].size(), 1u);
    logged_tokens += logprobs["tokens"].size();
  }
  EXPECT_EQ(logged_tokens, 3u);
}

TEST_F(ServeHttp, TokenizeAndDetokenize) {
  const Reply tokens = Post(*server_, "/tokenize", {{"content", "Hello, goose!"}});
  ASSERT_EQ(tokens.status, 200);
  ASSERT_FALSE(tokens.body["tokens"].empty());
  const Reply text = Post(*server_, "/detokenize", {{"tokens", tokens.body["tokens"]}});
  EXPECT_EQ(text.body["content"], "Hello, goose!");
  EXPECT_EQ(Post(*server_, "/detokenize", {{"tokens", {70000}}}).status, 400);
}

// Download a named state, upload it under another name: continuing from either gives the same
// tokens as continuing the original prompt, then the names are deleted.
TEST_F(ServeHttp, StateApiRoundTrip) {
  const Reply created = Post(*server_, "/v1/states", {{"prompt", "The state of the goose"}});
  ASSERT_EQ(created.status, 200) << created.body.dump();
  const std::string id = created.body["id"];
  EXPECT_GT(created.body["tokens"].get<int>(), 0);
  httplib::Client client("127.0.0.1", server_->port());
  const auto file = client.Get("/v1/states/" + id);
  ASSERT_TRUE(file);
  ASSERT_EQ(file->status, 200);
  EXPECT_EQ(file->get_header_value("Content-Type"), "application/octet-stream");
  EXPECT_EQ(file->body.substr(0, 2), "PK");  // a torch.save zip archive
  ASSERT_EQ(Send(*server_, "PUT", "/v1/states/copy-1", file->body).status, 200);

  const json tail = {{"prompt", " is"}, {"max_tokens", 8}, {"temperature", 0}};
  json from_id = tail, from_copy = tail;
  from_id["state"] = id;
  from_copy["state"] = "copy-1";
  const std::string expected =
      Post(*server_, "/v1/completions", {{"prompt", "The state of the goose is"}, {"max_tokens", 8}, {"temperature", 0}})
          .body["choices"][0]["text"];
  EXPECT_EQ(Post(*server_, "/v1/completions", from_id).body["choices"][0]["text"], expected);
  EXPECT_EQ(Post(*server_, "/v1/completions", from_copy).body["choices"][0]["text"], expected);

  EXPECT_EQ(Send(*server_, "DELETE", "/v1/states/copy-1").body["deleted"], true);
  EXPECT_EQ(Send(*server_, "GET", "/v1/states/copy-1").status, 404);
  EXPECT_EQ(Post(*server_, "/v1/completions", from_copy).status, 404);
  // Uploads are checked: not a state, or a state of another model.
  EXPECT_EQ(Send(*server_, "PUT", "/v1/states/bad", "not a state").status, 400);
  const Reply chat_state = Post(*server_, "/v1/states", {{"messages", {{{"role", "system"}, {"content", "Be a goose."}}}}});
  EXPECT_EQ(chat_state.status, 200);
}

TEST_F(ServeHttp, SaveStateInAStream) {
  const Events events = Stream(*server_, "/v1/chat/completions",
                               {{"messages", {{{"role", "user"}, {"content", "Hi"}}}}, {"max_tokens", 3}, {"stream", true},
                                {"save_state", true}});
  std::string state_id;
  for (const std::string& d : events.data) {
    if (d != "[DONE]" && json::parse(d).contains("state_id")) state_id = json::parse(d)["state_id"];
  }
  ASSERT_FALSE(state_id.empty());
  EXPECT_EQ(Send(*server_, "GET", "/v1/states/" + state_id).status, 200);
}

// Each error has its status, type and param; the server answers a normal request after each.
TEST_F(ServeHttp, ErrorsAreOpenAIErrorObjects) {
  const auto expect_error = [&](const Reply& r, int status, const std::string& type, const json& param) {
    EXPECT_EQ(r.status, status) << r.body.dump();
    EXPECT_EQ(r.body["error"]["type"], type) << r.body.dump();
    EXPECT_EQ(r.body["error"]["param"], param) << r.body.dump();
    EXPECT_TRUE(r.body["error"]["message"].is_string());
    EXPECT_EQ(Post(*server_, "/v1/completions", {{"prompt", "ok"}, {"max_tokens", 1}}).status, 200);
  };
  expect_error(Send(*server_, "POST", "/v1/completions", "{not json"), 400, "invalid_request_error", nullptr);
  expect_error(Post(*server_, "/v1/chat/completions", {{"messages", "x"}}), 400, "invalid_request_error", "messages");
  expect_error(Post(*server_, "/v1/completions", {{"prompt", "x"}, {"top_p", 3}}), 400, "invalid_request_error", "top_p");
  expect_error(Post(*server_, "/v1/completions", {{"prompt", "x"}, {"state", "missing"}}), 404, "not_found_error", "state");
  expect_error(Send(*server_, "GET", "/v1/nothing"), 404, "not_found_error", nullptr);
  expect_error(Post(*server_, "/v1/completions", {{"prompt", std::string(2 << 20, 'a')}}), 413, "invalid_request_error",
               nullptr);
  expect_error(Post(*server_, "/v1/chat/completions",
                    {{"messages", {{{"role", "user"}, {"content", "x"}}}}, {"response_format", {{"type", "xml"}}}}),
               400, "invalid_request_error", "response_format");
}

TEST_F(ServeHttp, SessionIdIsEchoedAndLogged) {
  const Reply r = Post(*server_, "/v1/completions", {{"prompt", "s"}, {"max_tokens", 1}}, {{"X-Session-Id", "conv-42"}});
  EXPECT_EQ(r.status, 200);
  bool echoed = false;
  for (const auto& [name, value] : r.headers) echoed |= name == "X-Session-Id" && value == "conv-42";
  EXPECT_TRUE(echoed);
  EXPECT_TRUE(server_->WaitForLog("POST /v1/completions 200", std::chrono::seconds(5)));
  EXPECT_TRUE(server_->WaitForLog("session=conv-42", std::chrono::seconds(5)));
}

TEST(ServeHttpKey, RequiresTheKeyExceptForThePageAndHealth) {
  auto server = ServerProcess::Start(WorldArgs({"--api-key", "sesame"}));
  ASSERT_NE(server, nullptr);
  const json body = {{"prompt", "k"}, {"max_tokens", 1}};
  const Reply none = Post(*server, "/v1/completions", body);
  EXPECT_EQ(none.status, 401);
  EXPECT_EQ(none.body["error"]["type"], "authentication_error");
  EXPECT_EQ(Post(*server, "/v1/completions", body, {{"Authorization", "Bearer wrong"}}).status, 401);
  EXPECT_EQ(Post(*server, "/v1/completions", body, {{"Authorization", "Bearer sesame"}}).status, 200);
  EXPECT_EQ(Send(*server, "GET", "/health").status, 200);
  EXPECT_EQ(Send(*server, "GET", "/").status, 200);
  EXPECT_EQ(Send(*server, "GET", "/metrics").status, 401);
}

// One slot and one queue place: a third request is refused with 429; a client that disconnects
// frees its slot for the queued one.
TEST(ServeHttpLimits, FullQueueAndDisconnectedClient) {
  auto server = ServerProcess::Start(WorldArgs({"--parallel", "1", "--queue", "1", "--max-tokens-limit", "1000000"}));
  ASSERT_NE(server, nullptr);
  std::promise<void> streaming;
  std::atomic<bool> stop_reading{false};
  auto first = std::async(std::launch::async, [&] {
    bool told = false;
    return Stream(*server, "/v1/completions", {{"prompt", "long"}, {"max_tokens", 1000000}, {"stream", true}, {"logit_bias", NeverEnds()}},
                  [&](const std::string&) {
                    if (!told) streaming.set_value();
                    told = true;
                    return !stop_reading.load();
                  });
  });
  streaming.get_future().wait();
  auto second = std::async(std::launch::async, [&] { return Post(*server, "/v1/completions", {{"prompt", "q"}, {"max_tokens", 2}, {"logit_bias", NeverEnds()}}); });
  // The second request is queued once the metrics say so.
  bool queued = false;
  for (int i = 0; i < 10000 && !queued; ++i) {
    queued = Send(*server, "GET", "/metrics").body.get<std::string>().find("anser_requests_queued 1\n") != std::string::npos;
  }
  ASSERT_TRUE(queued);
  const Reply third = Post(*server, "/v1/completions", {{"prompt", "r"}, {"max_tokens", 2}});
  EXPECT_EQ(third.status, 429);
  EXPECT_EQ(third.body["error"]["type"], "rate_limit_error");
  stop_reading = true;  // the first client goes away
  first.get();
  const Reply done = second.get();
  EXPECT_EQ(done.status, 200) << done.body.dump();
  EXPECT_EQ(done.body["choices"][0]["finish_reason"], "length");
}

// A stream that runs past --timeout-s ends with a timeout error chunk, then [DONE].
TEST(ServeHttpLimits, TimeoutEndsAStream) {
  auto server = ServerProcess::Start(WorldArgs({"--timeout-s", "1", "--max-tokens-limit", "1000000"}));
  ASSERT_NE(server, nullptr);
  const Events events = Stream(*server, "/v1/completions", {{"prompt", "t"}, {"max_tokens", 1000000}, {"stream", true}, {"logit_bias", NeverEnds()}});
  ASSERT_GE(events.data.size(), 2u);
  EXPECT_EQ(events.data.back(), "[DONE]");
  const json error = json::parse(events.data[events.data.size() - 2]);
  EXPECT_EQ(error["error"]["code"], "timeout");
}

// SIGTERM ends the open streams with an error chunk and [DONE], and the process exits promptly.
TEST(ServeHttpLimits, ShutdownEndsOpenStreams) {
  auto server = ServerProcess::Start(WorldArgs({"--max-tokens-limit", "1000000"}));
  ASSERT_NE(server, nullptr);
  std::promise<void> streaming;
  auto stream = std::async(std::launch::async, [&] {
    bool told = false;
    return Stream(*server, "/v1/chat/completions",
                  {{"messages", {{{"role", "user"}, {"content", "go"}}}}, {"max_tokens", 1000000}, {"stream", true}},
                  [&](const std::string&) {
                    if (!told) streaming.set_value();
                    told = true;
                    return true;
                  });
  });
  streaming.get_future().wait();
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(server->Terminate(std::chrono::seconds(5)), 0);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  const Events events = stream.get();
  ASSERT_GE(events.data.size(), 2u);
  EXPECT_EQ(events.data.back(), "[DONE]");
  EXPECT_EQ(json::parse(events.data[events.data.size() - 2])["error"]["message"], "server shutting down");
}

// --state FILE starts every request from that state: "ROMEO:" saved by `anser generate`, then
// " Hi" continued from it is "ROMEO: Hi" from the zero state (the byte model: text splits into
// the same tokens either way).
TEST(ServeHttpState, ServerWideInitialState) {
  const std::string model = kShared + "/fixtures/tiny-rwkv7-834K/model.fp32.pth";
  const std::string state = anser::testing::ScratchPath("romeo.pth");
  const std::string command = std::string(ANSER_BINARY) + " generate -m " + model + " -p ROMEO: -n 0 --save-state " +
                              state + " 2>/dev/null";
  ASSERT_EQ(std::system(command.c_str()), 0);
  const json body = {{"prompt", " Hi"}, {"max_tokens", 16}, {"temperature", 0}};
  std::string from_state;
  {
    auto server = ServerProcess::Start({"-m", model, "--threads", "1", "--state", state});
    ASSERT_NE(server, nullptr);
    from_state = Post(*server, "/v1/completions", body).body["choices"][0]["text"];
  }
  auto plain = ServerProcess::Start({"-m", model, "--threads", "1"});
  ASSERT_NE(plain, nullptr);
  EXPECT_EQ(from_state,
            Post(*plain, "/v1/completions", {{"prompt", "ROMEO: Hi"}, {"max_tokens", 16}, {"temperature", 0}})
                .body["choices"][0]["text"]);
  EXPECT_FALSE(from_state.empty());
  std::remove(state.c_str());
}

// A model without a tokenizer runs from token ids; text fields need one.
TEST(ServeHttpIds, TokenIdModel) {
  auto server = ServerProcess::Start({"-m", kShared + "/fixtures/rand-rwkv7-L2-D128-fp32/model.fp32.pth", "--threads", "1"});
  ASSERT_NE(server, nullptr);
  const Reply r = Post(*server, "/v1/completions", {{"prompt", {1, 2, 3}}, {"max_tokens", 4}, {"temperature", 0}});
  ASSERT_EQ(r.status, 200) << r.body.dump();
  const std::string text = r.body["choices"][0]["text"];
  EXPECT_EQ(std::count(text.begin(), text.end(), ','), 3) << text;
  EXPECT_EQ(Post(*server, "/v1/completions", {{"prompt", "text"}}).status, 400);
  EXPECT_EQ(Post(*server, "/v1/completions", {{"prompt", {600}}}).status, 400);
  EXPECT_EQ(Post(*server, "/v1/chat/completions", {{"messages", {{{"role", "user"}, {"content", "x"}}}}}).status, 400);
}

}  // namespace
}  // namespace anser::serve
