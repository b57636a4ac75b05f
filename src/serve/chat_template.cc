#include "serve/chat_template.h"

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

namespace anser::serve {

Result<ChatTemplate> ChatTemplate::Parse(std::string_view json_text, const std::string& source) {
  const nlohmann::json j = nlohmann::json::parse(json_text, nullptr, /*allow_exceptions=*/false);
  const std::string what = "[chat template] " + source + ": ";
  if (j.is_discarded() || !j.is_object()) {
    return Status::Error(what + "not a JSON object; expected {\"system\", \"user\", \"assistant\", \"separator\"}");
  }
  ChatTemplate chat;
  const std::pair<const char*, std::string*> fields[] = {
      {"system", &chat.system}, {"user", &chat.user}, {"assistant", &chat.assistant}, {"separator", &chat.separator}};
  for (const auto& [key, field] : fields) {
    const auto it = j.find(key);
    if (it == j.end()) continue;
    if (!it->is_string() || it->get_ref<const std::string&>().empty()) {
      return Status::Error(what + "\"" + key + "\" must be a non-empty string");
    }
    *field = it->get<std::string>();
  }
  for (const auto& [key, value] : j.items()) {
    bool known = false;
    for (const auto& field : fields) known = known || key == field.first;
    if (!known) {
      return Status::Error(what + "unknown field \"" + key + "\" (known: system, user, assistant, separator)");
    }
  }
  return chat;
}

Result<ChatTemplate> ChatTemplate::Load(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::Error("[chat template] cannot read '" + path + "'");
  std::ostringstream text;
  text << in.rdbuf();
  return Parse(text.str(), path);
}

const std::string& ChatTemplate::Prefix(Role role) const {
  switch (role) {
    case Role::kSystem:
      return system;
    case Role::kUser:
      return user;
    case Role::kAssistant:
      break;
  }
  return assistant;
}

std::vector<std::string> ChatTemplate::TurnStops() const { return {separator + user, separator + system}; }

std::string CleanMessage(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\r' && i + 1 < text.size() && text[i + 1] == '\n') continue;
    if (text[i] == '\n' && !out.empty() && out.back() == '\n') continue;
    out += text[i];
  }
  const size_t begin = out.find_first_not_of(" \t\r\n");
  if (begin == std::string::npos) return "";
  const size_t end = out.find_last_not_of(" \t\r\n");
  return out.substr(begin, end - begin + 1);
}

namespace {

// "PREFIX CONTENT" (cleaned), or the prefix alone for an empty message.
std::string Turn(const ChatTemplate& chat, Role role, std::string_view content) {
  const std::string cleaned = CleanMessage(content);
  std::string turn = chat.Prefix(role);
  if (!cleaned.empty()) turn.append(" ").append(cleaned);
  return turn;
}

}  // namespace

std::string RenderChat(const ChatTemplate& chat, std::span<const ChatMessage> messages, bool open_reply) {
  std::string text;
  const bool continue_reply = open_reply && !messages.empty() && messages.back().role == Role::kAssistant;
  for (size_t i = 0; i < messages.size(); ++i) {
    text += Turn(chat, messages[i].role, messages[i].content);
    if (!(continue_reply && i + 1 == messages.size())) text += chat.separator;
  }
  if (open_reply && !continue_reply) text += chat.assistant;
  return text;
}

std::string RenderReplyEnd(const ChatTemplate& chat, std::string_view reply) {
  const std::string cleaned = CleanMessage(reply);
  return (cleaned.empty() ? "" : " " + cleaned) + chat.separator;
}

}  // namespace anser::serve
