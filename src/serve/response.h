// One job's events in the OpenAI API's shapes: the chunks of a Server-Sent-Events stream, or the
// single response object of a request that does not stream.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "anser/tokenizer.h"
#include "anser/tool_calls.h"
#include "grammar/tool_reply_stream.h"
#include "serve/job.h"
#include "serve/named_states.h"
#include "serve/request.h"

namespace anser::serve {

// JSON text that never fails on invalid UTF-8 (World tokens can end inside a character): such
// bytes become U+FFFD.
std::string Dump(const nlohmann::json& j);

// {"error": {"message", "type", "param", "code"}}.
nlohmann::json ErrorJson(const ApiError& error);

struct ResponseContext {
  Endpoint endpoint = Endpoint::kCompletions;
  std::string id;        // "chatcmpl-…" or "cmpl-…"
  int64_t created = 0;   // Unix seconds
  std::string model;     // the served model's name
  int n = 1;
  bool logprobs = false;
  bool include_usage = false;
  const Tokenizer* tokenizer = nullptr;  // null: tokens are shown as their ids
  NamedStates* states = nullptr;         // where final states are kept (save_state)
  // The request had tools: a reply that is a block of calls becomes `tool_calls` (finish reason
  // "tool_calls"); a streamed one sends text once it is known not to open calls, and each call's
  // name, then its arguments as they are generated.
  bool tool_calls = false;
};

class ResponseBuilder {
 public:
  explicit ResponseBuilder(ResponseContext context);

  // Streaming. The chunks that open the stream (a chat's role deltas); then, per event, the SSE
  // text to send (possibly empty). After a JobEnd, done() is true and nothing follows.
  std::string Opening();
  std::string Stream(JobEvent& event);
  // Not streaming: takes every event, then Response() is the body (or error() is set).
  void Collect(JobEvent& event);
  nlohmann::json Response() const;

  bool done() const { return done_; }
  const std::optional<ApiError>& error() const { return error_; }
  const Usage& usage() const { return usage_; }

 private:
  struct Choice {
    std::string text;
    std::vector<TokenLogprob> logprobs;
    std::optional<FinishReason> finish;
    std::string state_id;
    grammar::ToolReplyStream tool_reply;  // streamed with tools
  };

  // Stores a final state as a named state; returns its id ("" and an error when it does not fit).
  std::string KeepState(const SnapshotPtr& state);
  nlohmann::json Chunk(nlohmann::json choices) const;
  nlohmann::json ChoiceLogprobs(const std::vector<TokenLogprob>& entries) const;
  nlohmann::json TokenJson(int token, float logprob) const;
  std::string TokenText(int token) const;
  nlohmann::json UsageJson() const;
  // A chat choice's message, and its finish reason ("tool_calls" when the text is calls).
  std::pair<nlohmann::json, std::string> Message(const Choice& c) const;
  // The chunks for pieces of a streamed reply with tools.
  std::string ToolReplyChunks(int index, const std::vector<grammar::ToolReplyStream::Piece>& pieces) const;
  static std::string Sse(const nlohmann::json& j) { return "data: " + Dump(j) + "\n\n"; }

  ResponseContext c_;
  std::vector<Choice> choices_;
  Usage usage_;
  std::optional<ApiError> error_;
  bool done_ = false;
};

}  // namespace anser::serve
