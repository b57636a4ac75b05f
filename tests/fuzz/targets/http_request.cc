// The server's request handling: an HTTP body parsed as JSON, validated for every endpoint (with
// and without a tokenizer), and a chat request's messages rendered as the model reads them. A
// request that validates must hold only what its limits allow.
#include <nlohmann/json.hpp>
#include <string_view>
#include <variant>

#include "fuzz_support.h"
#include "serve/chat_template.h"
#include "serve/request.h"

namespace {

using namespace anser;
using namespace anser::serve;

void CheckGeneration(const nlohmann::json& body, Endpoint endpoint, const RequestLimits& limits) {
  Parsed<GenerationRequest> parsed =
      ParseGenerationRequest(body, endpoint, limits, SamplerOptions{});
  const auto* r = std::get_if<GenerationRequest>(&parsed);
  if (r == nullptr) {
    fuzz::Require(!std::get<ApiError>(parsed).message.empty(), "a refused request says why");
    return;
  }
  fuzz::Require(r->max_tokens >= 0 && r->max_tokens <= limits.max_tokens_limit,
                "max_tokens within the limit");
  fuzz::Require(r->n >= 1 && r->n <= limits.max_choices, "n within the limit");
  for (const auto& [token, bias] : r->logit_bias) {
    fuzz::Require(token >= 0 && token < limits.n_vocab, "logit_bias ids inside the vocabulary");
  }
  for (int id : r->prompt.ids)
    fuzz::Require(id >= 0 && id < limits.n_vocab, "prompt ids inside the vocabulary");
  if (endpoint == Endpoint::kChatCompletions) {
    const ChatTemplate chat;
    const std::string text = RenderChat(chat, r->messages, /*open_reply=*/true);
    const bool continues_reply =
        !r->messages.empty() && r->messages.back().role == Role::kAssistant;
    fuzz::Require(continues_reply || std::string_view(text).ends_with(chat.assistant),
                  "a rendered chat ends with the assistant's prefix");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const nlohmann::json body =
      nlohmann::json::parse(data, data + size, nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded()) return 0;
  RequestLimits limits;
  limits.n_vocab = 65536;
  for (bool has_tokenizer : {true, false}) {
    limits.has_tokenizer = has_tokenizer;
    CheckGeneration(body, Endpoint::kCompletions, limits);
    CheckGeneration(body, Endpoint::kChatCompletions, limits);
    ParseStateRequest(body, limits);
  }
  ParseTokenizeRequest(body);
  Parsed<std::vector<int>> ids = ParseDetokenizeRequest(body, limits.n_vocab);
  if (const auto* v = std::get_if<std::vector<int>>(&ids)) {
    for (int id : *v)
      fuzz::Require(id >= 0 && id < limits.n_vocab, "detokenize ids inside the vocabulary");
  }
  return 0;
}
