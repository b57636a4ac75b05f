// The OpenAI request bodies the server takes, parsed and validated: every field checked for type
// and range before any work starts, the fault named in the error's `param`.
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "anser/sampler.h"
#include "anser/tool_calls.h"
#include "serve/api_error.h"
#include "serve/chat_template.h"

namespace anser::serve {

enum class Endpoint { kCompletions, kChatCompletions };

// What a request may ask for, from the model and the server's flags.
struct RequestLimits {
  int n_vocab = 0;
  bool has_tokenizer = true;  // false: prompts are token ids, no text fields (stop, chat)
  int max_tokens_limit = 4096;
  int default_max_tokens = 512;
  int max_choices = 8;  // n ≤ the sequences a batch holds (--parallel)
};

// A prompt: text, or token ids (completions and states only).
struct Prompt {
  std::string text;
  std::vector<int> ids;
  bool is_ids = false;
};

// Structured output: `response_format` (json_object, json_schema) or the `grammar` extension.
// With `tools` (chat): the functions, tool_choice and parallel_tool_calls.
struct OutputFormat {
  enum class Kind { kText, kJsonObject, kJsonSchema, kGbnf, kTools };
  Kind kind = Kind::kText;
  std::string text;   // the JSON Schema (JSON text), the GBNF, or (tools) the request's fields
  std::string param;  // the field it came from, for errors found when it is compiled
  std::vector<ToolFunction> tools;
  ToolChoice tool_choice;
  bool parallel_tool_calls = true;
};

struct GenerationRequest {
  Endpoint endpoint = Endpoint::kCompletions;
  Prompt prompt;                      // completions
  std::vector<ChatMessage> messages;  // chat
  int max_tokens = 0;
  SamplerOptions sampling;
  bool seed_given = false;
  std::vector<std::string> stop;
  int n = 1;
  std::vector<std::pair<int, float>> logit_bias;  // token id → added to its logit
  bool logprobs = false;
  int top_logprobs = 0;  // alternatives reported per token (chat top_logprobs, completions logprobs)
  bool stream = false;
  bool include_usage = false;
  std::string state;  // start from this named state ("" = the server's initial state)
  bool save_state = false;
  OutputFormat format;
};

// POST /v1/states: a prompt or messages to prefill, optionally after a named state.
struct StateRequest {
  Prompt prompt;
  std::vector<ChatMessage> messages;
  bool is_chat = false;
  std::string state;
};

template <class T>
using Parsed = std::variant<T, ApiError>;

// `defaults` holds the sampling options of the endpoint (seed unset). `body_text` is the body as
// received: a schema's properties are generated in the order it declares them, which the parsed
// `body` (keys sorted) has lost. Without it, they come in sorted order.
Parsed<GenerationRequest> ParseGenerationRequest(const nlohmann::json& body, Endpoint endpoint,
                                                 const RequestLimits& limits, const SamplerOptions& defaults,
                                                 std::string_view body_text = {});
Parsed<StateRequest> ParseStateRequest(const nlohmann::json& body, const RequestLimits& limits);

// POST /tokenize {"content": TEXT} and POST /detokenize {"tokens": [ids]}.
Parsed<std::string> ParseTokenizeRequest(const nlohmann::json& body);
Parsed<std::vector<int>> ParseDetokenizeRequest(const nlohmann::json& body, int n_vocab);

}  // namespace anser::serve
