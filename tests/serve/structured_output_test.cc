// Structured output through the Service, in-process: response_format json_schema and
// json_object, the grammar extension, and the errors, with the World random model (which writes
// noise when free). Outputs are judged by the independent validator of tests/grammar.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "../grammar/independent_validator.h"
#include "serve_test_util.h"

namespace anser::serve {
namespace {

using nlohmann::json;
using testing::ChatComplete;
using testing::Complete;
using testing::MakeService;
using testing::TextOf;

constexpr char kWorld[] = "rand-rwkv7-L3-D128-world";

const json kSchema = json::parse(R"({"type": "object", "properties": {
    "city": {"type": "string", "maxLength": 10}, "days": {"type": "integer", "minimum": 1, "maximum": 7}},
    "required": ["city", "days"], "additionalProperties": false})");

json Messages() { return json::array({{{"role", "user"}, {"content", "Weather in Paris, as JSON?"}}}); }

TEST(StructuredOutput, ChatJsonSchemaRepliesValidateAndStop) {
  auto service = MakeService(kWorld);
  const json r = ChatComplete(
      *service, {{"messages", Messages()}, {"n", 4}, {"seed", 3}, {"max_tokens", 300}, {"top_p", 1},
                 {"response_format", {{"type", "json_schema"}, {"json_schema", {{"name", "weather"}, {"schema", kSchema}}}}}});
  ASSERT_TRUE(r.contains("choices")) << r.dump();
  anser::testing::ValidationCase request{kSchema, "", {}};
  for (size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(r["choices"][i]["finish_reason"], "stop") << r.dump();
    request.documents.push_back(TextOf(r, i));
  }
  const auto verdicts = anser::testing::Validate({request});
  for (size_t i = 0; i < request.documents.size(); ++i) EXPECT_TRUE(verdicts[0][i]) << request.documents[i];
}

TEST(StructuredOutput, JsonObjectAndGrammarOnCompletions) {
  auto service = MakeService(kWorld);
  const json any = Complete(*service, {{"prompt", "JSON:"}, {"seed", 1}, {"max_tokens", 200}, {"top_p", 1},
                                       {"response_format", {{"type", "json_object"}}}});
  ASSERT_TRUE(any.contains("choices")) << any.dump();
  const json numbers = Complete(*service, {{"prompt", "Numbers:"}, {"seed", 2}, {"max_tokens", 50},
                                           {"grammar", "root ::= [0-9]{1,3} (\",\" [0-9]{1,3}){2}"}});
  ASSERT_TRUE(numbers.contains("choices")) << numbers.dump();
  EXPECT_EQ(numbers["choices"][0]["finish_reason"], "stop");
  const std::string text = TextOf(numbers);
  EXPECT_EQ(std::count(text.begin(), text.end(), ','), 2) << text;
  EXPECT_EQ(text.find_first_not_of("0123456789,"), std::string::npos) << text;
  // A cut reply is a prefix of the grammar, finished by length.
  const json cut = Complete(*service, {{"prompt", "x"}, {"seed", 2}, {"max_tokens", 1},
                                       {"grammar", "root ::= \"a\" [b-z]{20}"}});
  EXPECT_EQ(cut["choices"][0]["finish_reason"], "length");
  EXPECT_EQ(TextOf(cut).substr(0, 1), "a");
  if (any["choices"][0]["finish_reason"] == "stop") {
    anser::testing::ValidationCase request{json::object(), "", {TextOf(any)}};
    EXPECT_TRUE(anser::testing::Validate({request})[0][0]) << TextOf(any);
  }
}

const json kTools = json::parse(R"([{"type": "function", "function": {"name": "get_weather",
    "description": "Weather in a city", "parameters": {"type": "object", "properties": {
      "city": {"type": "string", "maxLength": 10}, "unit": {"enum": ["celsius", "fahrenheit"]}},
      "required": ["city", "unit"], "additionalProperties": false}}}])");

TEST(StructuredOutput, ToolCallRoundTrip) {
  auto service = MakeService(kWorld);
  const json call = ChatComplete(*service, {{"messages", Messages()}, {"tools", kTools}, {"tool_choice", "required"},
                                            {"seed", 5}, {"max_tokens", 300}, {"top_p", 1}});
  ASSERT_TRUE(call.contains("choices")) << call.dump();
  const json& choice = call["choices"][0];
  EXPECT_EQ(choice["finish_reason"], "tool_calls") << call.dump();
  ASSERT_TRUE(choice["message"].contains("tool_calls")) << call.dump();
  EXPECT_TRUE(choice["message"]["content"].is_null());
  const json& tool_call = choice["message"]["tool_calls"][0];
  EXPECT_EQ(tool_call["type"], "function");
  EXPECT_EQ(tool_call["function"]["name"], "get_weather");
  EXPECT_EQ(tool_call["id"].get<std::string>().rfind("call_", 0), 0u);
  anser::testing::ValidationCase request{kTools[0]["function"]["parameters"], "", {}};
  request.documents.push_back(tool_call["function"]["arguments"].get<std::string>());
  EXPECT_TRUE(anser::testing::Validate({request})[0][0]) << call.dump();

  // The follow-up: the assistant's call and the tool's result, then a final answer in text.
  json messages = Messages();
  messages.push_back(choice["message"]);
  messages.push_back({{"role", "tool"}, {"tool_call_id", tool_call["id"]}, {"content", "{\"temp\": 21}"}});
  const json answer = ChatComplete(*service, {{"messages", messages}, {"tools", kTools}, {"tool_choice", "none"},
                                              {"seed", 6}, {"max_tokens", 20}});
  ASSERT_TRUE(answer.contains("choices")) << answer.dump();
  EXPECT_TRUE(answer["choices"][0]["message"]["content"].is_string()) << answer.dump();
  EXPECT_FALSE(answer["choices"][0]["message"].contains("tool_calls"));
  const json unknown_id = ChatComplete(
      *service, {{"messages", {{{"role", "tool"}, {"tool_call_id", "nope"}, {"content", "x"}}}}, {"max_tokens", 1}});
  EXPECT_EQ(unknown_id["error"]["param"], "messages[0].tool_call_id") << unknown_id.dump();
}

// The data of each SSE event in `sse`.
std::vector<json> SseChunks(const std::string& sse) {
  std::vector<json> chunks;
  for (size_t at = 0; (at = sse.find("data: ", at)) != std::string::npos; at += 6) {
    chunks.push_back(json::parse(sse.substr(at + 6, sse.find("\n\n", at) - at - 6)));
  }
  return chunks;
}

// With tools, a streamed call comes as OpenAI sends one: its id, type and name first, then its
// arguments as they are generated (the same compact text as unstreamed), then the finish reason.
TEST(StructuredOutput, StreamedToolCallsComeAsDeltas) {
  ResponseContext context;
  context.endpoint = Endpoint::kChatCompletions;
  context.tool_calls = true;
  ResponseBuilder builder(context);
  EXPECT_EQ(SseChunks(builder.Opening()).size(), 1u);
  JobEvent delta = ChoiceDelta{0, " ```json\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Oslo\"", {}};
  const std::vector<json> head = SseChunks(builder.Stream(delta));
  ASSERT_EQ(head.size(), 2u);
  const json first = head[0]["choices"][0]["delta"]["tool_calls"][0];
  EXPECT_EQ(first["index"], 0);
  EXPECT_EQ(first["type"], "function");
  EXPECT_TRUE(first["id"].get<std::string>().starts_with("call_")) << first.dump();
  EXPECT_EQ(first["function"]["name"], "get_weather");
  EXPECT_EQ(first["function"]["arguments"], "");
  EXPECT_EQ(head[1]["choices"][0]["delta"]["tool_calls"][0]["function"]["arguments"], R"({"city":"Oslo")");
  JobEvent rest = ChoiceDelta{0, ", \"unit\": \"celsius\"}}\n```", {}};
  const std::vector<json> tail = SseChunks(builder.Stream(rest));
  ASSERT_EQ(tail.size(), 1u);
  EXPECT_EQ(tail[0]["choices"][0]["delta"]["tool_calls"][0]["index"], 0);
  EXPECT_EQ(tail[0]["choices"][0]["delta"]["tool_calls"][0]["function"]["arguments"], R"(,"unit":"celsius"})");
  JobEvent end = ChoiceEnd{0, FinishReason::kStop, nullptr};
  const std::vector<json> last = SseChunks(builder.Stream(end));
  ASSERT_EQ(last.size(), 1u);
  EXPECT_EQ(last[0]["choices"][0]["finish_reason"], "tool_calls");
}

// With tools, a reply that is text streams as text once its first character rules out a call;
// the spaces and newlines it ends with are left out, as unstreamed.
TEST(StructuredOutput, StreamedTextWithToolsIsNotHeldBack) {
  ResponseContext context;
  context.endpoint = Endpoint::kChatCompletions;
  context.tool_calls = true;
  ResponseBuilder builder(context);
  builder.Opening();
  JobEvent opening = ChoiceDelta{0, " ", {}};
  EXPECT_EQ(builder.Stream(opening), "");  // it may still open a block of calls
  JobEvent words = ChoiceDelta{0, "It is \n", {}};
  const std::vector<json> first = SseChunks(builder.Stream(words));
  ASSERT_EQ(first.size(), 1u);
  EXPECT_EQ(first[0]["choices"][0]["delta"]["content"], "It is");
  JobEvent more = ChoiceDelta{0, "sunny.\n\n", {}};
  const std::vector<json> second = SseChunks(builder.Stream(more));
  ASSERT_EQ(second.size(), 1u);
  EXPECT_EQ(second[0]["choices"][0]["delta"]["content"], " \nsunny.");
  JobEvent end = ChoiceEnd{0, FinishReason::kStop, nullptr};
  const std::vector<json> last = SseChunks(builder.Stream(end));
  ASSERT_EQ(last.size(), 1u);
  EXPECT_EQ(last[0]["choices"][0]["finish_reason"], "stop");
}

TEST(StructuredOutput, BadSchemasAndGrammarsAre400sNamingTheField) {
  auto service = MakeService(kWorld);
  const json bad_schema = ChatComplete(
      *service, {{"messages", Messages()},
                 {"response_format",
                  {{"type", "json_schema"},
                   {"json_schema", {{"name", "x"}, {"schema", {{"type", "string"}, {"format", "email"}}}}}}}});
  EXPECT_EQ(bad_schema["error"]["param"], "response_format") << bad_schema.dump();
  EXPECT_EQ(bad_schema["error"]["message"],
            "[json-schema] at /: format 'email' is not supported (date, time, date-time, uuid are)");
  const json bad_grammar = Complete(*service, {{"prompt", "x"}, {"grammar", "root ::= (\"a\""}});
  EXPECT_EQ(bad_grammar["error"]["param"], "grammar");
  EXPECT_EQ(bad_grammar["error"]["message"],
            "[grammar] line 1, column 14: expected ')' to close the group opened on line 1, column 10");
  const json both = Complete(*service, {{"prompt", "x"}, {"grammar", "root ::= \"a\""},
                                        {"response_format", {{"type", "json_object"}}}});
  EXPECT_EQ(both["error"]["param"], "grammar");
  EXPECT_EQ(both["error"]["message"], "only one of 'grammar', 'response_format' and 'tools' may be given");
}

}  // namespace
}  // namespace anser::serve
