#include "serve/request.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace anser::serve {
namespace {

using nlohmann::json;

RequestLimits Limits() {
  RequestLimits l;
  l.n_vocab = 1000;
  l.max_tokens_limit = 100;
  l.default_max_tokens = 20;
  l.max_choices = 4;
  return l;
}

Parsed<GenerationRequest> Chat(const json& body) {
  return ParseGenerationRequest(body, Endpoint::kChatCompletions, Limits(), SamplerOptions{});
}
Parsed<GenerationRequest> Completion(const json& body, RequestLimits limits = Limits()) {
  return ParseGenerationRequest(body, Endpoint::kCompletions, limits, SamplerOptions{});
}

// The error's param, or "" if the request was accepted.
template <class T>
std::string ErrorParam(const Parsed<T>& parsed) {
  const auto* e = std::get_if<ApiError>(&parsed);
  return e == nullptr ? "" : (e->param.empty() ? "(none)" : e->param);
}

json Messages() { return json::array({{{"role", "user"}, {"content", "Hi"}}}); }

TEST(Request, ReadsEveryFieldOfAChatRequest) {
  const json body = {{"messages", json::array({{{"role", "system"}, {"content", "S"}},
                                               {{"role", "user"}, {"content", json::array({{{"type", "text"}, {"text", "a"}},
                                                                                           {{"type", "text"}, {"text", "b"}}})}}})},
                     {"max_completion_tokens", 7}, {"temperature", 0.5}, {"top_p", 0.9}, {"top_k", 5},
                     {"min_p", 0.1}, {"presence_penalty", -1}, {"frequency_penalty", 2}, {"penalty_decay", 0.9},
                     {"stop", {"x", "y"}}, {"seed", 42}, {"n", 2}, {"logit_bias", {{"17", -100}}},
                     {"logprobs", true}, {"top_logprobs", 3}, {"stream", true},
                     {"stream_options", {{"include_usage", true}}}, {"state", "s1"}, {"save_state", true},
                     {"model", "whatever"}, {"user", "ignored"}, {"response_format", {{"type", "text"}}}};
  const auto parsed = Chat(body);
  ASSERT_EQ(ErrorParam(parsed), "");
  const auto& r = std::get<GenerationRequest>(parsed);
  ASSERT_EQ(r.messages.size(), 2u);
  EXPECT_EQ(r.messages[0].role, Role::kSystem);
  EXPECT_EQ(r.messages[1].content, "ab");
  EXPECT_EQ(r.max_tokens, 7);
  EXPECT_FLOAT_EQ(r.sampling.temperature, 0.5f);
  EXPECT_FLOAT_EQ(r.sampling.top_p, 0.9f);
  EXPECT_EQ(r.sampling.top_k, 5);
  EXPECT_FLOAT_EQ(r.sampling.min_p, 0.1f);
  EXPECT_FLOAT_EQ(r.sampling.presence_penalty, -1.0f);
  EXPECT_FLOAT_EQ(r.sampling.frequency_penalty, 2.0f);
  EXPECT_FLOAT_EQ(r.sampling.penalty_decay, 0.9f);
  EXPECT_EQ(r.stop, (std::vector<std::string>{"x", "y"}));
  EXPECT_TRUE(r.seed_given);
  EXPECT_EQ(r.sampling.seed, 42u);
  EXPECT_EQ(r.n, 2);
  ASSERT_EQ(r.logit_bias.size(), 1u);
  EXPECT_EQ(r.logit_bias[0], (std::pair<int, float>{17, -100.0f}));
  EXPECT_TRUE(r.logprobs);
  EXPECT_EQ(r.top_logprobs, 3);
  EXPECT_TRUE(r.stream);
  EXPECT_TRUE(r.include_usage);
  EXPECT_EQ(r.state, "s1");
  EXPECT_TRUE(r.save_state);
}

TEST(Request, OmittedFieldsTakeTheDefaults) {
  SamplerOptions defaults;
  defaults.top_p = 0.3f;
  const auto parsed = ParseGenerationRequest({{"messages", Messages()}}, Endpoint::kChatCompletions, Limits(), defaults);
  const auto& r = std::get<GenerationRequest>(parsed);
  EXPECT_EQ(r.max_tokens, 20);
  EXPECT_FLOAT_EQ(r.sampling.top_p, 0.3f);
  EXPECT_FALSE(r.seed_given);
  EXPECT_EQ(r.n, 1);
  EXPECT_FALSE(r.stream);
  // null counts as omitted, as the OpenAI clients send it.
  EXPECT_EQ(ErrorParam(Chat({{"messages", Messages()}, {"temperature", nullptr}, {"stop", nullptr}})), "");
}

TEST(Request, CompletionPromptsAreTextOrTokenIds) {
  const auto text = Completion({{"prompt", "Once"}, {"logprobs", 2}});
  ASSERT_EQ(ErrorParam(text), "");
  EXPECT_EQ(std::get<GenerationRequest>(text).prompt.text, "Once");
  EXPECT_TRUE(std::get<GenerationRequest>(text).logprobs);
  EXPECT_EQ(std::get<GenerationRequest>(text).top_logprobs, 2);
  const auto ids = Completion({{"prompt", {1, 2, 999}}});
  ASSERT_EQ(ErrorParam(ids), "");
  EXPECT_EQ(std::get<GenerationRequest>(ids).prompt.ids, (std::vector<int>{1, 2, 999}));
  EXPECT_EQ(ErrorParam(Completion({{"prompt", {1, 1000}}})), "prompt[1]");
  EXPECT_EQ(ErrorParam(Completion({{"prompt", {1, 2.5}}})), "prompt[1]");
  EXPECT_EQ(ErrorParam(Completion({{"prompt", {"a", "b"}}})), "prompt");
  EXPECT_EQ(ErrorParam(Completion({{"prompt", 5}})), "prompt");
  EXPECT_EQ(ErrorParam(Completion({{"max_tokens", 5}})), "prompt");
  RequestLimits ids_only = Limits();
  ids_only.has_tokenizer = false;
  EXPECT_EQ(ErrorParam(Completion({{"prompt", "text"}}, ids_only)), "prompt");
  EXPECT_EQ(ErrorParam(Completion({{"prompt", {1}}, {"stop", "x"}}, ids_only)), "stop");
}

TEST(Request, StructuredOutputFields) {
  auto format = [](const json& fields) {
    json body = fields;
    body["messages"] = Messages();
    const auto parsed = Chat(body);
    EXPECT_TRUE(std::holds_alternative<GenerationRequest>(parsed)) << body.dump();
    return std::holds_alternative<GenerationRequest>(parsed) ? std::get<GenerationRequest>(parsed).format
                                                             : OutputFormat{};
  };
  EXPECT_EQ(format({{"response_format", {{"type", "text"}}}}).kind, OutputFormat::Kind::kText);
  EXPECT_EQ(format({{"response_format", {{"type", "json_object"}}}}).kind, OutputFormat::Kind::kJsonObject);
  const OutputFormat schema = format(
      {{"response_format",
        {{"type", "json_schema"}, {"json_schema", {{"name", "a_b-1"}, {"strict", true}, {"schema", {{"type", "integer"}}}}}}}});
  EXPECT_EQ(schema.kind, OutputFormat::Kind::kJsonSchema);
  EXPECT_EQ(schema.text, R"({"type":"integer"})");
  EXPECT_EQ(schema.param, "response_format");
  const OutputFormat gbnf = format({{"grammar", "root ::= \"a\""}});
  EXPECT_EQ(gbnf.kind, OutputFormat::Kind::kGbnf);
  EXPECT_EQ(gbnf.text, "root ::= \"a\"");
  EXPECT_EQ(gbnf.param, "grammar");
}

// nlohmann::json sorts keys; a schema's and a tool's properties keep the order of the body's text,
// since the grammar generates them in that order.
TEST(Request, SchemasAndToolsKeepTheBodysKeyOrder) {
  const std::string properties = R"({"type":"object","properties":{"zeta":{"type":"integer"},"alpha":{"type":"string"}}})";
  const std::string with_schema = R"({"messages":[{"role":"user","content":"x"}],"response_format":)"
                                  R"({"type":"json_schema","json_schema":{"name":"n","schema":)" + properties + "}}}";
  const auto format = [](const std::string& text, std::string_view body_text) {
    const auto parsed = ParseGenerationRequest(json::parse(text), Endpoint::kChatCompletions, Limits(), {}, body_text);
    EXPECT_TRUE(std::holds_alternative<GenerationRequest>(parsed)) << ErrorParam(parsed);
    return std::holds_alternative<GenerationRequest>(parsed) ? std::get<GenerationRequest>(parsed).format : OutputFormat{};
  };
  EXPECT_EQ(format(with_schema, with_schema).text, properties);
  EXPECT_EQ(format(with_schema, {}).text, json::parse(properties).dump());  // sorted: alpha first

  const std::string with_tools = R"({"messages":[{"role":"user","content":"x"}],"tools":[{"type":"function",)"
                                 R"("function":{"name":"f","parameters":)" + properties + "}}]}";
  const OutputFormat tools = format(with_tools, with_tools);
  ASSERT_EQ(tools.tools.size(), 1u);
  EXPECT_EQ(tools.tools[0].parameters, properties);
}

TEST(Request, OutOfRangeAndMistypedFieldsAreNamed) {
  const std::pair<json, std::string> cases[] = {
      {{{"temperature", -0.1}}, "temperature"},
      {{{"temperature", 2.5}}, "temperature"},
      {{{"temperature", "hot"}}, "temperature"},
      {{{"top_p", 1.5}}, "top_p"},
      {{{"top_k", -1}}, "top_k"},
      {{{"top_k", 1.5}}, "top_k"},
      {{{"min_p", 2}}, "min_p"},
      {{{"presence_penalty", 3}}, "presence_penalty"},
      {{{"frequency_penalty", -3}}, "frequency_penalty"},
      {{{"penalty_decay", 1.5}}, "penalty_decay"},
      {{{"max_tokens", 101}}, "max_tokens"},
      {{{"max_tokens", -1}}, "max_tokens"},
      {{{"max_completion_tokens", 1000}}, "max_completion_tokens"},
      {{{"n", 0}}, "n"},
      {{{"n", 5}}, "n"},
      {{{"stop", {"a", "b", "c", "d", "e"}}}, "stop"},
      {{{"stop", {1}}}, "stop"},
      {{{"seed", "x"}}, "seed"},
      {{{"logit_bias", {{"abc", 1}}}}, "logit_bias"},
      {{{"logit_bias", {{"5000", 1}}}}, "logit_bias"},
      {{{"logit_bias", {{"5", 101}}}}, "logit_bias"},
      {{{"logprobs", 1}}, "logprobs"},
      {{{"top_logprobs", 2}}, "top_logprobs"},
      {{{"logprobs", true}, {"top_logprobs", 21}}, "top_logprobs"},
      {{{"stream", "yes"}}, "stream"},
      {{{"stream_options", {{"include_usage", 1}}}}, "stream_options.include_usage"},
      {{{"state", 5}}, "state"},
      {{{"save_state", "true"}}, "save_state"},
      {{{"response_format", {{"type", "xml"}}}}, "response_format"},
      {{{"response_format", {{"type", "json_schema"}, {"json_schema", {{"schema", json::object()}}}}}},
       "response_format"},
      {{{"response_format", {{"type", "json_schema"}, {"json_schema", {{"name", "x y"}, {"schema", json::object()}}}}}},
       "response_format"},
      {{{"response_format", {{"type", "json_schema"}, {"json_schema", {{"name", "x"}}}}}}, "response_format"},
      {{{"tools", {{{"type", "function"}}}}}, "tools"},
      {{{"tool_choice", "auto"}}, "tool_choice"},
      {{{"grammar", 5}}, "grammar"},
      {{{"grammar", "root ::= \"a\""}, {"response_format", {{"type", "json_object"}}}}, "grammar"},
  };
  for (const auto& [fields, param] : cases) {
    json body = fields;
    body["messages"] = Messages();
    const auto parsed = Chat(body);
    EXPECT_EQ(ErrorParam(parsed), param) << body.dump();
    if (const auto* e = std::get_if<ApiError>(&parsed)) {
      EXPECT_EQ(e->status, 400);
      EXPECT_EQ(e->type, "invalid_request_error");
      EXPECT_NE(e->message.find(param.substr(0, param.find('.'))), std::string::npos) << e->message;
    }
  }
}

TEST(Request, MessagesAreChecked) {
  EXPECT_EQ(ErrorParam(Chat({{"messages", json::array()}})), "messages");
  EXPECT_EQ(ErrorParam(Chat({{"messages", "hi"}})), "messages");
  EXPECT_EQ(ErrorParam(Chat(json::object())), "messages");
  EXPECT_EQ(ErrorParam(Chat({{"messages", {{{"role", "robot"}, {"content", "x"}}}}})), "messages[0].role");
  EXPECT_EQ(ErrorParam(Chat({{"messages", {{{"role", "user"}}}}})), "messages[0].content");
  EXPECT_EQ(ErrorParam(Chat({{"messages", {{{"role", "user"}, {"content", {{{"type", "image_url"}}}}}}}})),
            "messages[0].content[0]");
  EXPECT_EQ(ErrorParam(Chat({{"messages", {1}}})), "messages[0]");
  // Starting from a named state, the new turns may be none at all.
  EXPECT_EQ(ErrorParam(Chat({{"messages", json::array()}, {"state", "s"}})), "");
  // A developer message is a system message; an assistant message may have no content.
  const auto parsed = Chat({{"messages", {{{"role", "developer"}, {"content", "d"}}, {{"role", "assistant"}, {"content", nullptr}}}}});
  ASSERT_EQ(ErrorParam(parsed), "");
  EXPECT_EQ(std::get<GenerationRequest>(parsed).messages[0].role, Role::kSystem);
  EXPECT_EQ(ErrorParam(ParseGenerationRequest(json::array(), Endpoint::kChatCompletions, Limits(), {})), "(none)");
}

// A tool's result may come as text parts, as any other message's content may.
TEST(Request, ToolResultsTakeTextParts) {
  const auto turns = [](const json& content) {
    const json call = {{"id", "c1"}, {"type", "function"}, {"function", {{"name", "f"}, {"arguments", "{}"}}}};
    return Chat({{"messages", {{{"role", "assistant"}, {"tool_calls", {call}}},
                               {{"role", "tool"}, {"tool_call_id", "c1"}, {"content", content}}}}});
  };
  const auto parts = turns({{{"type", "text"}, {"text", "{\"temp\": "}}, {{"type", "text"}, {"text", "21}"}}});
  const auto whole = turns("{\"temp\": 21}");
  ASSERT_EQ(ErrorParam(parts), "");
  ASSERT_EQ(ErrorParam(whole), "");
  EXPECT_EQ(std::get<GenerationRequest>(parts).messages[1].content, std::get<GenerationRequest>(whole).messages[1].content);
  EXPECT_NE(std::get<GenerationRequest>(whole).messages[1].content.find("{\"temp\": 21}"), std::string::npos);
  EXPECT_EQ(ErrorParam(turns({{{"type", "image_url"}}})), "messages[1].content[0]");
  EXPECT_EQ(ErrorParam(turns(nullptr)), "messages[1].content");
}

TEST(Request, StateTokenizeAndDetokenizeBodies) {
  EXPECT_EQ(ErrorParam(ParseStateRequest({{"prompt", "abc"}}, Limits())), "");
  EXPECT_EQ(ErrorParam(ParseStateRequest({{"messages", Messages()}}, Limits())), "");
  EXPECT_EQ(ErrorParam(ParseStateRequest({{"prompt", "a"}, {"messages", Messages()}}, Limits())), "prompt");
  EXPECT_EQ(ErrorParam(ParseStateRequest(json::object(), Limits())), "prompt");
  EXPECT_EQ(ErrorParam(ParseStateRequest({{"prompt", ""}}, Limits())), "prompt");
  EXPECT_EQ(std::get<std::string>(ParseTokenizeRequest({{"content", "x"}})), "x");
  EXPECT_EQ(ErrorParam(ParseTokenizeRequest({{"content", 1}})), "content");
  EXPECT_EQ(std::get<std::vector<int>>(ParseDetokenizeRequest({{"tokens", {3, 4}}}, 10)), (std::vector<int>{3, 4}));
  EXPECT_EQ(ErrorParam(ParseDetokenizeRequest({{"tokens", {3, 10}}}, 10)), "tokens[1]");
}

}  // namespace
}  // namespace anser::serve
