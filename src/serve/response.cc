#include "serve/response.h"

#include <random>

namespace anser::serve {

using nlohmann::json;

std::string Dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

json ErrorJson(const ApiError& e) {
  return {{"error",
           {{"message", e.message},
            {"type", e.type},
            {"param", e.param.empty() ? json(nullptr) : json(e.param)},
            {"code", e.code.empty() ? json(nullptr) : json(e.code)}}}};
}

namespace {

const char* FinishName(FinishReason r) { return r == FinishReason::kLength ? "length" : "stop"; }

std::string CallId() {
  static thread_local std::mt19937_64 rng(std::random_device{}());
  static constexpr char kDigits[] = "0123456789abcdefghijklmnopqrstuvwxyz";
  std::string id = "call_";
  for (int i = 0; i < 24; ++i) id += kDigits[rng() % 36];
  return id;
}

}  // namespace

ResponseBuilder::ResponseBuilder(ResponseContext context)
    : c_(std::move(context)), choices_(static_cast<size_t>(c_.n)) {}

std::string ResponseBuilder::TokenText(int token) const {
  return c_.tokenizer != nullptr ? std::string(c_.tokenizer->TokenBytes(token)) : std::to_string(token);
}

json ResponseBuilder::TokenJson(int token, float logprob) const {
  const std::string text = TokenText(token);
  return {{"token", text}, {"logprob", logprob}, {"bytes", std::vector<uint8_t>(text.begin(), text.end())}};
}

// Chat: {"content": [{token, logprob, bytes, top_logprobs}]}. Completions: the parallel lists
// {tokens, token_logprobs, top_logprobs, text_offset}.
json ResponseBuilder::ChoiceLogprobs(const std::vector<TokenLogprob>& entries) const {
  if (c_.endpoint == Endpoint::kChatCompletions) {
    json content = json::array();
    for (const TokenLogprob& e : entries) {
      json item = TokenJson(e.token, e.logprob);
      json top = json::array();
      for (const auto& [token, lp] : e.top) top.push_back(TokenJson(token, lp));
      item["top_logprobs"] = std::move(top);
      content.push_back(std::move(item));
    }
    return {{"content", std::move(content)}};
  }
  json tokens = json::array(), token_logprobs = json::array(), top_logprobs = json::array(),
       offsets = json::array();
  for (const TokenLogprob& e : entries) {
    tokens.push_back(TokenText(e.token));
    token_logprobs.push_back(e.logprob);
    json top = json::object();
    for (const auto& [token, lp] : e.top) top[TokenText(token)] = lp;
    top_logprobs.push_back(std::move(top));
    offsets.push_back(e.text_offset);
  }
  return {{"tokens", tokens}, {"token_logprobs", token_logprobs}, {"top_logprobs", top_logprobs}, {"text_offset", offsets}};
}

json ResponseBuilder::UsageJson() const {
  return {{"prompt_tokens", usage_.prompt_tokens},
          {"completion_tokens", usage_.completion_tokens},
          {"total_tokens", usage_.prompt_tokens + usage_.completion_tokens},
          {"prompt_tokens_details", {{"cached_tokens", usage_.cached_tokens}}}};
}

json ResponseBuilder::Chunk(json choices) const {
  json chunk = {{"id", c_.id},
                {"object", c_.endpoint == Endpoint::kChatCompletions ? "chat.completion.chunk" : "text_completion"},
                {"created", c_.created},
                {"model", c_.model},
                {"choices", std::move(choices)}};
  if (c_.include_usage) chunk["usage"] = nullptr;
  return chunk;
}

std::string ResponseBuilder::KeepState(const SnapshotPtr& state) {
  if (!state || c_.states == nullptr) return "";
  std::string id = c_.states->Add(state);
  if (id.empty() && !error_) {
    error_ = ApiError::Invalid("save_state", "the state is larger than the server's --states-mb budget");
  }
  return id;
}

std::string ResponseBuilder::Opening() {
  if (c_.endpoint != Endpoint::kChatCompletions) return "";
  std::string out;
  for (int i = 0; i < c_.n; ++i) {
    out += Sse(Chunk(json::array({{{"index", i},
                                   {"delta", {{"role", "assistant"}, {"content", ""}}},
                                   {"logprobs", nullptr},
                                   {"finish_reason", nullptr}}})));
  }
  return out;
}

std::pair<json, std::string> ResponseBuilder::Message(const Choice& c) const {
  const std::string finish = FinishName(c.finish.value_or(FinishReason::kStop));
  if (c_.tool_calls) {
    Result<ToolReply> reply = ParseToolReply(c.text);
    if (reply.ok() && !reply.value().calls.empty()) {
      json calls = json::array();
      for (const ToolCall& call : reply.value().calls) {
        calls.push_back({{"id", CallId()},
                         {"type", "function"},
                         {"function", {{"name", call.name}, {"arguments", call.arguments}}}});
      }
      return {{{"role", "assistant"}, {"content", nullptr}, {"tool_calls", std::move(calls)}}, "tool_calls"};
    }
    if (reply.ok()) return {{{"role", "assistant"}, {"content", reply.value().content}}, finish};
  }
  return {{{"role", "assistant"}, {"content", c.text}}, finish};
}

// As OpenAI streams them: text as content; per call, its id, type and name with empty arguments
// first, then the arguments in pieces.
std::string ResponseBuilder::ToolReplyChunks(int index, const std::vector<grammar::ToolReplyStream::Piece>& pieces) const {
  using Kind = grammar::ToolReplyStream::Piece::Kind;
  std::string out;
  for (const grammar::ToolReplyStream::Piece& piece : pieces) {
    json delta;
    if (piece.kind == Kind::kText) {
      delta = {{"content", piece.text}};
    } else if (piece.kind == Kind::kCallName) {
      delta = {{"tool_calls",
                {{{"index", piece.call}, {"id", CallId()}, {"type", "function"},
                  {"function", {{"name", piece.text}, {"arguments", ""}}}}}}};
    } else {
      delta = {{"tool_calls", {{{"index", piece.call}, {"function", {{"arguments", piece.text}}}}}}};
    }
    out += Sse(Chunk(json::array(
        {{{"index", index}, {"delta", std::move(delta)}, {"logprobs", nullptr}, {"finish_reason", nullptr}}})));
  }
  return out;
}

std::string ResponseBuilder::Stream(JobEvent& event) {
  const bool chat = c_.endpoint == Endpoint::kChatCompletions;
  const bool with_tools = c_.tool_calls && chat;
  if (auto* d = std::get_if<ChoiceDelta>(&event); d != nullptr && with_tools) {
    return ToolReplyChunks(d->index, choices_[static_cast<size_t>(d->index)].tool_reply.Push(d->text));
  }
  if (auto* d = std::get_if<ChoiceDelta>(&event)) {
    json choice = {{"index", d->index},
                   {"logprobs", c_.logprobs ? ChoiceLogprobs(d->logprobs) : json(nullptr)},
                   {"finish_reason", nullptr}};
    if (chat) {
      choice["delta"] = {{"content", d->text}};
    } else {
      choice["text"] = d->text;
    }
    return Sse(Chunk(json::array({std::move(choice)})));
  }
  if (auto* e = std::get_if<ChoiceEnd>(&event)) {
    std::string out;
    std::string finish = FinishName(e->reason);
    if (with_tools) {
      grammar::ToolReplyStream& reply = choices_[static_cast<size_t>(e->index)].tool_reply;
      out = ToolReplyChunks(e->index, reply.Finish());
      if (reply.closed_calls()) finish = "tool_calls";
    }
    json choice = {{"index", e->index}, {"logprobs", nullptr}, {"finish_reason", finish}};
    if (chat) {
      choice["delta"] = json::object();
    } else {
      choice["text"] = "";
    }
    json chunk = Chunk(json::array({std::move(choice)}));
    if (e->final_state) {
      const std::string id = KeepState(e->final_state);
      if (!id.empty()) chunk["state_id"] = id;
    }
    return out + Sse(chunk);
  }
  auto& end = std::get<JobEnd>(event);
  done_ = true;
  usage_ = end.usage;
  std::string out;
  if (end.error) {
    error_ = end.error;
    out += Sse(ErrorJson(*end.error));
  } else if (c_.include_usage) {
    json chunk = Chunk(json::array());
    chunk["usage"] = UsageJson();
    out += Sse(chunk);
  }
  return out + "data: [DONE]\n\n";
}

void ResponseBuilder::Collect(JobEvent& event) {
  if (auto* d = std::get_if<ChoiceDelta>(&event)) {
    Choice& c = choices_[static_cast<size_t>(d->index)];
    c.text += d->text;
    for (TokenLogprob& e : d->logprobs) c.logprobs.push_back(std::move(e));
  } else if (auto* e = std::get_if<ChoiceEnd>(&event)) {
    Choice& c = choices_[static_cast<size_t>(e->index)];
    c.finish = e->reason;
    c.state_id = KeepState(e->final_state);
  } else {
    auto& end = std::get<JobEnd>(event);
    done_ = true;
    usage_ = end.usage;
    if (end.error) error_ = end.error;
  }
}

json ResponseBuilder::Response() const {
  const bool chat = c_.endpoint == Endpoint::kChatCompletions;
  json choices = json::array();
  for (size_t i = 0; i < choices_.size(); ++i) {
    const Choice& c = choices_[i];
    json choice = {{"index", i},
                   {"logprobs", c_.logprobs ? ChoiceLogprobs(c.logprobs) : json(nullptr)},
                   {"finish_reason", FinishName(c.finish.value_or(FinishReason::kStop))}};
    if (chat) {
      auto [message, finish] = Message(c);
      choice["message"] = std::move(message);
      choice["finish_reason"] = finish;
    } else {
      choice["text"] = c.text;
    }
    if (!c.state_id.empty()) choice["state_id"] = c.state_id;
    choices.push_back(std::move(choice));
  }
  json body = {{"id", c_.id},
               {"object", chat ? "chat.completion" : "text_completion"},
               {"created", c_.created},
               {"model", c_.model},
               {"choices", std::move(choices)},
               {"usage", UsageJson()}};
  if (!choices_.empty() && !choices_[0].state_id.empty()) body["state_id"] = choices_[0].state_id;
  return body;
}

}  // namespace anser::serve
