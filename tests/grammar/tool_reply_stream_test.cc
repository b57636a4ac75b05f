// A tool-call reply read as it is generated, in chunks of every size: the pieces add up to what
// ParseToolReply reads from the whole reply.
#include "grammar/tool_reply_stream.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "anser/tool_calls.h"
#include "grammar_test_util.h"

namespace anser {
namespace {

using grammar::ToolReplyStream;
using testing::ByteVocabulary;

constexpr char kTools[] = R"([
  {"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object",
    "properties": {"city": {"type": "string", "maxLength": 10}, "unit": {"enum": ["celsius", "fahrenheit"]}},
    "required": ["city"], "additionalProperties": false}}},
  {"type": "function", "function": {"name": "note", "parameters": {"type": "object",
    "properties": {"text": {"type": "string"}, "tags": {"type": "array", "items": {"type": "string"}}},
    "required": ["text"]}}}
])";

// Feeds `reply` in chunks of 1…max_chunk bytes, then ends it; returns the reply the pieces add
// up to.
ToolReply Streamed(const std::string& reply, std::mt19937& rng, size_t max_chunk, bool* closed) {
  ToolReplyStream stream;
  ToolReply out;
  std::uniform_int_distribution<size_t> chunk(1, max_chunk);
  for (size_t at = 0; at < reply.size();) {
    const size_t n = std::min(chunk(rng), reply.size() - at);
    for (ToolReplyStream::Piece& piece : stream.Push(std::string_view(reply).substr(at, n))) {
      switch (piece.kind) {
        case ToolReplyStream::Piece::Kind::kText: out.content += piece.text; break;
        case ToolReplyStream::Piece::Kind::kCallName:
          EXPECT_EQ(piece.call, static_cast<int>(out.calls.size())) << reply;
          out.calls.push_back({piece.text, ""});
          break;
        case ToolReplyStream::Piece::Kind::kArguments:
          EXPECT_EQ(piece.call + 1, static_cast<int>(out.calls.size())) << reply;
          if (!out.calls.empty()) out.calls.back().arguments += piece.text;
          break;
      }
    }
    at += n;
  }
  for (ToolReplyStream::Piece& piece : stream.Finish()) {
    EXPECT_EQ(piece.kind, ToolReplyStream::Piece::Kind::kText) << reply;
    out.content += piece.text;
  }
  *closed = stream.closed_calls();
  return out;
}

void ExpectSameReply(const std::string& reply, std::mt19937& rng) {
  const auto whole = ParseToolReply(reply);
  ASSERT_TRUE(whole.ok()) << whole.message() << "\n" << reply;
  for (const size_t max_chunk : {size_t{1}, size_t{3}, size_t{16}, reply.size() + 1}) {
    bool closed = false;
    const ToolReply streamed = Streamed(reply, rng, max_chunk, &closed);
    EXPECT_EQ(streamed.content, whole->content) << reply;
    ASSERT_EQ(streamed.calls.size(), whole->calls.size()) << reply;
    for (size_t k = 0; k < whole->calls.size(); ++k) {
      EXPECT_EQ(streamed.calls[k].name, whole->calls[k].name) << reply;
      EXPECT_EQ(streamed.calls[k].arguments, whole->calls[k].arguments) << reply;
    }
    EXPECT_EQ(closed, !whole->calls.empty()) << reply;
  }
}

TEST(ToolReplyStreamTest, PiecesAddUpToTheWholeReply) {
  std::mt19937 rng(5);
  for (const std::string& reply :
       {std::string(" ```json\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Oslo\", \"unit\": "
                    "\"celsius\"}}\n{\"name\": \"note\", \"arguments\": {\"text\": \"a } \\\" ] {\", "
                    "\"tags\": [ \"x\" , \"y\" ]}}\n```"),
        std::string(" It is sunny.\n\n"), std::string("Two  spaces \n and a line"), std::string(" `"),
        std::string(" "), std::string("")}) {
    ExpectSameReply(reply, rng);
  }
}

// Random walks through the auto grammar give text mostly; through the required one, calls.
TEST(ToolReplyStreamTest, RandomRepliesFromTheGrammar) {
  auto tools = ParseOpenAiTools(kTools);
  ASSERT_TRUE(tools.ok()) << tools.message();
  std::mt19937 rng(23);
  int texts = 0, with_calls = 0;
  for (const ToolChoice::Mode mode : {ToolChoice::Mode::kAuto, ToolChoice::Mode::kRequired}) {
    auto grammar = CompileToolCallGrammar(*tools, {mode, ""}, true, ByteVocabulary());
    ASSERT_TRUE(grammar.ok()) << grammar.message();
    for (int i = 0; i < 30; ++i) {
      const std::string reply = testing::RandomDocument(*grammar, rng, 300);
      if (reply.empty()) continue;
      (reply.find("```json") != std::string::npos ? with_calls : texts) += 1;
      ExpectSameReply(reply, rng);
    }
  }
  EXPECT_GE(texts, 15);
  EXPECT_GE(with_calls, 15);
}

}  // namespace
}  // namespace anser
