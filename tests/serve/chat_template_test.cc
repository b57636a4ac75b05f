#include "serve/chat_template.h"

#include <gtest/gtest.h>

namespace anser::serve {
namespace {

TEST(ChatTemplate, RendersTheWorldFormatWithTheReplyOpen) {
  const std::vector<ChatMessage> messages = {
      {Role::kSystem, "Be brief."}, {Role::kUser, "Hi"}, {Role::kAssistant, "Hello!"}, {Role::kUser, "Who are you?"}};
  EXPECT_EQ(RenderChat(ChatTemplate{}, messages, /*open_reply=*/true),
            "System: Be brief.\n\nUser: Hi\n\nAssistant: Hello!\n\nUser: Who are you?\n\nAssistant:");
  EXPECT_EQ(RenderChat(ChatTemplate{}, messages, /*open_reply=*/false),
            "System: Be brief.\n\nUser: Hi\n\nAssistant: Hello!\n\nUser: Who are you?\n\n");
}

TEST(ChatTemplate, MessagesAreCleanedAsTheOfficialDemoDoes) {
  EXPECT_EQ(CleanMessage("  one\r\n\r\n\n two \n"), "one\n two");
  EXPECT_EQ(CleanMessage(" \n\t "), "");
  // A blank line inside a message would read as the end of its turn.
  const std::vector<ChatMessage> messages = {{Role::kUser, "a\n\n\nb"}};
  EXPECT_EQ(RenderChat(ChatTemplate{}, messages, true), "User: a\nb\n\nAssistant:");
}

TEST(ChatTemplate, AnAssistantMessageLastIsContinued) {
  const std::vector<ChatMessage> messages = {{Role::kUser, "Count"}, {Role::kAssistant, "1, 2,"}};
  EXPECT_EQ(RenderChat(ChatTemplate{}, messages, true), "User: Count\n\nAssistant: 1, 2,");
}

TEST(ChatTemplate, TheReplyEndIsWhatTheNextTurnRenders) {
  const ChatTemplate chat;
  const std::vector<ChatMessage> first = {{Role::kUser, "Hi"}};
  const std::string reply = " Hello\n\n there ";
  const std::vector<ChatMessage> next = {{Role::kUser, "Hi"}, {Role::kAssistant, reply}, {Role::kUser, "More"}};
  const std::string rendered = RenderChat(chat, next, true);
  EXPECT_EQ(rendered.substr(0, (RenderChat(chat, first, true) + RenderReplyEnd(chat, reply)).size()),
            RenderChat(chat, first, true) + RenderReplyEnd(chat, reply));
  EXPECT_EQ(RenderReplyEnd(chat, ""), "\n\n");
}

TEST(ChatTemplate, ParsesAFileAndNamesItsMistakes) {
  const Result<ChatTemplate> ok = ChatTemplate::Parse(R"({"user": "Q:", "assistant": "A:", "separator": "\n"})", "t.json");
  ASSERT_TRUE(ok.ok()) << ok.message();
  EXPECT_EQ(ok->user, "Q:");
  EXPECT_EQ(ok->system, "System:");
  EXPECT_EQ(RenderChat(ok.value(), std::vector<ChatMessage>{{Role::kUser, "x"}}, true), "Q: x\nA:");
  EXPECT_EQ(ok->TurnStops(), (std::vector<std::string>{"\nQ:", "\nSystem:"}));

  const Result<ChatTemplate> unknown = ChatTemplate::Parse(R"({"usr": "Q:"})", "t.json");
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.message().find("unknown field \"usr\""), std::string::npos) << unknown.message();
  const Result<ChatTemplate> empty = ChatTemplate::Parse(R"({"separator": ""})", "t.json");
  ASSERT_FALSE(empty.ok());
  EXPECT_NE(empty.message().find("\"separator\" must be a non-empty string"), std::string::npos);
  EXPECT_FALSE(ChatTemplate::Parse("[1]", "t.json").ok());
  EXPECT_FALSE(ChatTemplate::Load("/nonexistent/template.json").ok());
}

}  // namespace
}  // namespace anser::serve
