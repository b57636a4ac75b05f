// Tool calls: OpenAI fields parsed, the reply grammar per tool_choice, replies read back, and
// random replies drawn from the grammar whose arguments the independent validator accepts.
#include "anser/tool_calls.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "grammar_test_util.h"
#include "independent_validator.h"

namespace anser {
namespace {

using testing::ByteVocabulary;
using testing::Matches;

constexpr char kTools[] = R"([
  {"type": "function", "function": {"name": "get_weather", "description": "Weather in a city",
    "parameters": {"type": "object", "properties": {"city": {"type": "string", "maxLength": 10},
      "unit": {"enum": ["celsius", "fahrenheit"]}}, "required": ["city"],
      "additionalProperties": false}}},
  {"type": "function", "function": {"name": "add", "parameters": {"type": "object",
    "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}}, "required": ["a", "b"],
    "additionalProperties": false}}}
])";

std::vector<ToolFunction> Tools() {
  auto tools = ParseOpenAiTools(kTools);
  EXPECT_TRUE(tools.ok()) << tools.message();
  return *tools;
}

std::shared_ptr<const CompiledGrammar> Grammar(const ToolChoice& choice, bool parallel) {
  auto compiled = CompileToolCallGrammar(Tools(), choice, parallel, ByteVocabulary());
  EXPECT_TRUE(compiled.ok()) << compiled.message();
  return *compiled;
}

const std::string kWeatherCall =
    "```json\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}\n```";
const std::string kTwoCalls =
    "```json\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Oslo\", \"unit\": "
    "\"celsius\"}}\n{\"name\": \"add\", \"arguments\": {\"a\": 1, \"b\": -2}}\n```";

TEST(ToolCallsTest, ParsesOpenAiFields) {
  const std::vector<ToolFunction> tools = Tools();
  ASSERT_EQ(tools.size(), 2u);
  EXPECT_EQ(tools[0].name, "get_weather");
  EXPECT_EQ(tools[0].description, "Weather in a city");
  EXPECT_EQ(tools[1].description, "");
  auto named = ParseOpenAiToolChoice(R"({"type": "function", "function": {"name": "add"}})");
  ASSERT_TRUE(named.ok());
  EXPECT_EQ(named->mode, ToolChoice::Mode::kFunction);
  EXPECT_EQ(named->function, "add");
  EXPECT_EQ(ParseOpenAiToolChoice("\"required\"")->mode, ToolChoice::Mode::kRequired);
  EXPECT_EQ(ParseOpenAiToolChoice("\"none\"")->mode, ToolChoice::Mode::kNone);
  EXPECT_EQ(ParseOpenAiToolChoice("\"always\"").message(),
            "[tools] 'tool_choice' must be \"none\", \"auto\", \"required\" or {\"type\": "
            "\"function\", \"function\": {\"name\": …}}");
  EXPECT_EQ(
      ParseOpenAiTools(R"([{"type": "function", "function": {"name": "bad name"}}])").message(),
      "[tools] tools[0].function.name must be 1–64 characters of a-z, A-Z, 0-9, _ and -");
  EXPECT_EQ(ParseOpenAiTools("[]").message(), "[tools] 'tools' must be a non-empty array");
}

TEST(ToolCallsTest, RequiredAdmitsOnlyWellFormedCalls) {
  auto single = Grammar({ToolChoice::Mode::kRequired, ""}, /*parallel=*/false);
  auto parallel = Grammar({ToolChoice::Mode::kRequired, ""}, /*parallel=*/true);
  EXPECT_TRUE(Matches(single, kWeatherCall));
  EXPECT_TRUE(Matches(single, " " + kWeatherCall));
  EXPECT_FALSE(Matches(single, kTwoCalls));
  EXPECT_TRUE(Matches(parallel, kTwoCalls));
  for (const std::string& bad :
       {std::string("Hello"), std::string("```json\n{\"name\": \"other\", \"arguments\": {}}\n```"),
        std::string("```json\n{\"name\": \"add\", \"arguments\": {\"a\": 1}}\n```"),
        std::string("```json\n{\"name\": \"get_weather\", \"arguments\": {\"city\": 5}}\n```")}) {
    EXPECT_FALSE(Matches(parallel, bad)) << bad;
  }
  GrammarMatcher m(single);
  ASSERT_TRUE(m.AcceptBytes(kWeatherCall));
  EXPECT_TRUE(m.IsComplete());  // nothing may follow the closing fence
}

TEST(ToolCallsTest, NamedFunctionAutoAndNone) {
  auto named = Grammar({ToolChoice::Mode::kFunction, "add"}, true);
  EXPECT_FALSE(Matches(named, kWeatherCall));
  EXPECT_TRUE(
      Matches(named, "```json\n{\"name\": \"add\", \"arguments\": {\"a\": 3, \"b\": 4}}\n```"));
  auto automatic = Grammar({ToolChoice::Mode::kAuto, ""}, true);
  EXPECT_TRUE(Matches(automatic, kTwoCalls));
  EXPECT_TRUE(Matches(automatic, " It is sunny.\nEnjoy!\n\n"));
  EXPECT_TRUE(Matches(automatic, "Plain"));
  EXPECT_FALSE(Matches(automatic, "`code`"));      // "`" opens calls only
  EXPECT_FALSE(Matches(automatic, "One\n\nTwo"));  // a blank line ends the reply
  GrammarMatcher m(automatic);
  ASSERT_TRUE(m.AcceptBytes("Done.\n\n"));
  EXPECT_TRUE(m.IsComplete());
  auto none =
      CompileToolCallGrammar(Tools(), {ToolChoice::Mode::kNone, ""}, true, ByteVocabulary());
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(Matches(*none, kWeatherCall));
  EXPECT_TRUE(Matches(*none, "No tools needed."));
  EXPECT_EQ(ToolCallGbnf(Tools(), {ToolChoice::Mode::kFunction, "nope"}, true).message(),
            "[tools] tool_choice names 'nope', which is not among the tools");
  std::vector<ToolFunction> bad = {{"f", "", R"({"type": "string", "format": "email"})"}};
  EXPECT_EQ(ToolCallGbnf(bad, {ToolChoice::Mode::kRequired, ""}, true).message(),
            "[tools] parameters of 'f': [json-schema] at /: format 'email' is not supported "
            "(date, time, date-time, uuid are)");
}

TEST(ToolCallsTest, RepliesReadBack) {
  auto calls = ParseToolReply(" " + kTwoCalls);
  ASSERT_TRUE(calls.ok()) << calls.message();
  ASSERT_EQ(calls->calls.size(), 2u);
  EXPECT_EQ(calls->calls[0].name, "get_weather");
  EXPECT_EQ(calls->calls[0].arguments, R"({"city":"Oslo","unit":"celsius"})");
  EXPECT_EQ(calls->calls[1].arguments, R"({"a":1,"b":-2})");
  EXPECT_EQ(calls->content, "");
  EXPECT_EQ(RenderToolCalls(calls->calls),
            "```json\n{\"name\": \"get_weather\", \"arguments\": {\"city\":\"Oslo\",\"unit\":"
            "\"celsius\"}}\n{\"name\": \"add\", \"arguments\": {\"a\":1,\"b\":-2}}\n```");
  // What RenderToolCalls writes is itself a reply the grammar admits.
  EXPECT_TRUE(
      Matches(Grammar({ToolChoice::Mode::kRequired, ""}, true), RenderToolCalls(calls->calls)));
  auto text = ParseToolReply(" It is sunny.\n\n");
  ASSERT_TRUE(text.ok());
  EXPECT_EQ(text->content, "It is sunny.");
  EXPECT_TRUE(text->calls.empty());
  EXPECT_EQ(ParseToolReply("```json\n{\"name\": \"add\", \"argu").message(),
            "[tools] the reply opens a tool call it does not finish (cut by the length limit?)");
  EXPECT_EQ(RenderToolResult("add", "{\"sum\": -1}"), "Function output (add):\n{\"sum\": -1}");
  const std::string prompt = RenderToolsPrompt(Tools(), {ToolChoice::Mode::kAuto, ""}, true);
  EXPECT_NE(prompt.find("{\"name\":\"get_weather\",\"description\":\"Weather in a city\""),
            std::string::npos)
      << prompt;
}

TEST(ToolCallsTest, RandomRepliesParseAndTheirArgumentsAreValid) {
  auto grammar = Grammar({ToolChoice::Mode::kRequired, ""}, true);
  std::mt19937 rng(11);
  const auto schemas = nlohmann::json::parse(kTools);
  std::vector<testing::ValidationCase> requests(2);
  for (int k = 0; k < 2; ++k) requests[k].schema = schemas[k]["function"]["parameters"];
  int replies = 0;
  for (int attempt = 0; attempt < 300 && replies < 40; ++attempt) {
    const std::string reply = testing::RandomDocument(grammar, rng, 400);
    if (reply.empty()) continue;
    ++replies;
    auto parsed = ParseToolReply(reply);
    ASSERT_TRUE(parsed.ok()) << parsed.message() << "\n" << reply;
    ASSERT_FALSE(parsed->calls.empty());
    for (const ToolCall& call : parsed->calls) {
      requests[call.name == "get_weather" ? 0 : 1].documents.push_back(call.arguments);
    }
  }
  EXPECT_GE(replies, 20);
  const auto verdicts = testing::Validate(requests);
  for (size_t k = 0; k < requests.size(); ++k) {
    for (size_t d = 0; d < requests[k].documents.size(); ++d) {
      EXPECT_TRUE(verdicts[k][d]) << requests[k].documents[d];
    }
  }
}

}  // namespace
}  // namespace anser
