// The RWKV World chat format: how a conversation becomes the text the model reads.
//
//   System: SYSTEM\n\nUser: MESSAGE\n\nAssistant: REPLY\n\nUser: MESSAGE\n\nAssistant:
//
// Each turn is its prefix, a space, the cleaned message and the separator; the conversation ends
// with the assistant's prefix alone (the turn the model writes). A reply ends where the model
// starts the next turn: the separator followed by the user's or the system's prefix.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "anser/status.h"

namespace anser::serve {

enum class Role { kSystem, kUser, kAssistant };

struct ChatMessage {
  Role role = Role::kUser;
  std::string content;
};

struct ChatTemplate {
  std::string system = "System:";
  std::string user = "User:";
  std::string assistant = "Assistant:";
  std::string separator = "\n\n";

  // A JSON object with any of the string fields "system", "user", "assistant", "separator";
  // the others keep their defaults. `source` names the file in errors.
  static Result<ChatTemplate> Parse(std::string_view json_text, const std::string& source);
  static Result<ChatTemplate> Load(const std::string& path);

  const std::string& Prefix(Role role) const;
  // The strings that end a reply: the separator followed by the user's, or the system's, prefix.
  std::vector<std::string> TurnStops() const;
};

// A message as the official chat demo feeds it: CRLF to LF, runs of newlines collapsed to one
// (a blank line would read as the end of the turn), surrounding whitespace stripped.
std::string CleanMessage(std::string_view text);

// The conversation as the model reads it. With `open_reply`, the text ends with the assistant's
// prefix, ready for the reply; when the last message is the assistant's, its turn is left open
// instead (the model continues it). Without, every turn is closed by the separator: a prefix of
// later conversations, as a named state keeps it.
std::string RenderChat(const ChatTemplate& chat, std::span<const ChatMessage> messages, bool open_reply);

// What follows an open assistant prefix once `reply` is complete, as the next request renders
// that turn: " REPLY" (cleaned) and the separator.
std::string RenderReplyEnd(const ChatTemplate& chat, std::string_view reply);

}  // namespace anser::serve
