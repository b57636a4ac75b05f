#include "grammar/tool_reply_stream.h"

#include <utility>

#include "anser/tool_calls.h"

namespace anser::grammar {
namespace {

// The grammar writes each call as {"name": "NAME", "arguments": ARGUMENTS}.
constexpr std::string_view kNameKey = "{\"name\": \"";
constexpr std::string_view kArgumentsKey = "\", \"arguments\": ";

}  // namespace

std::vector<ToolReplyStream::Piece> ToolReplyStream::Push(std::string_view bytes) {
  held_ += bytes;
  std::vector<Piece> out;
  while (Step(&out)) {
  }
  return out;
}

std::vector<ToolReplyStream::Piece> ToolReplyStream::Finish() {
  std::vector<Piece> out;
  if (mode_ == Mode::kUndecided) {
    mode_ = Mode::kText;
    if (held_.starts_with(' ')) held_.erase(0, 1);
    Step(&out);
  }
  return out;
}

void ToolReplyStream::Give(Piece::Kind kind, std::string text, std::vector<Piece>* out) const {
  if (!text.empty()) out->push_back({kind, call_, std::move(text)});
}

bool ToolReplyStream::Step(std::vector<Piece>* out) {
  switch (mode_) {
    case Mode::kUndecided: {
      // One leading space, then either the opening marker or text.
      const size_t space = held_.starts_with(' ') ? 1 : 0;
      const std::string_view rest = std::string_view(held_).substr(space);
      if (rest.empty()) return false;
      if (rest.starts_with(kToolCallsOpen)) {
        held_.erase(0, space + kToolCallsOpen.size());
        mode_ = Mode::kCallHead;
        return true;
      }
      if (kToolCallsOpen.starts_with(rest)) return false;  // it may still open calls
      held_.erase(0, space);
      mode_ = Mode::kText;
      return true;
    }
    case Mode::kText: {
      // Spaces and newlines at the end are held: ParseToolReply drops them where the text ends.
      const size_t last = held_.find_last_not_of(" \n");
      if (last == std::string::npos) return false;
      Give(Piece::Kind::kText, held_.substr(0, last + 1), out);
      held_.erase(0, last + 1);
      return false;
    }
    case Mode::kCallHead: {
      if (!held_.starts_with(kNameKey)) {
        if (!kNameKey.starts_with(held_)) mode_ = Mode::kUnexpected;
        return false;
      }
      const size_t name_end = held_.find('"', kNameKey.size());
      if (name_end == std::string::npos) return false;
      const std::string_view after_name = std::string_view(held_).substr(name_end);
      if (!after_name.starts_with(kArgumentsKey)) {
        if (!kArgumentsKey.starts_with(after_name)) mode_ = Mode::kUnexpected;
        return false;
      }
      ++call_;
      Give(Piece::Kind::kCallName, held_.substr(kNameKey.size(), name_end - kNameKey.size()), out);
      held_.erase(0, name_end + kArgumentsKey.size());
      arguments_ = {};
      mode_ = Mode::kArguments;
      return true;
    }
    case Mode::kArguments: {
      // The arguments end where a "}" comes outside them: the one closing the call.
      std::string given;
      for (size_t i = 0; i < held_.size(); ++i) {
        const char c = held_[i];
        if (c == '}' && arguments_.depth == 0 && !arguments_.in_string) {
          Give(Piece::Kind::kArguments, std::move(given), out);
          held_.erase(0, i + 1);
          mode_ = Mode::kAfterCall;
          return true;
        }
        if (arguments_.Take(c)) given += c;
      }
      held_.clear();
      Give(Piece::Kind::kArguments, std::move(given), out);
      return false;
    }
    case Mode::kAfterCall: {
      // "\n" and the next call, or the closing marker "\n```".
      if (held_.size() < 2) {
        if (!held_.empty() && held_[0] != '\n') mode_ = Mode::kUnexpected;
        return false;
      }
      if (held_.starts_with("\n{")) {
        held_.erase(0, 1);
        mode_ = Mode::kCallHead;
        return true;
      }
      mode_ = held_.starts_with(kToolCallsClose.substr(0, 2)) ? Mode::kClosed : Mode::kUnexpected;
      return true;
    }
    case Mode::kClosed:
    case Mode::kUnexpected:
      held_.clear();
      return false;
  }
  return false;
}

}  // namespace anser::grammar
