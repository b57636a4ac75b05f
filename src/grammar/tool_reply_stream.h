// Reads a tool-call reply (written under ToolCallGbnf's grammar) as it is generated, so that a
// stream can send text, and each call's name and arguments, as soon as they are known.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "grammar/json_text_scan.h"

namespace anser::grammar {

// The pieces add up to what ParseToolReply reads from the whole reply: its content (text), or
// each call's name and its arguments (compact JSON, as ParseToolReply gives them).
class ToolReplyStream {
 public:
  struct Piece {
    enum class Kind { kText, kCallName, kArguments };
    Kind kind = Kind::kText;
    int call = 0;      // kCallName, kArguments: the call's index in the reply
    std::string text;  // the text, the name, or more of the arguments
  };
  // Takes the next bytes of the reply; returns the pieces they complete.
  std::vector<Piece> Push(std::string_view bytes);
  // The reply ended: gives what could still have opened a block of calls (a reply cut short) as
  // text.
  std::vector<Piece> Finish();
  // Whether the reply opened a block of calls and closed it.
  bool closed_calls() const { return mode_ == Mode::kClosed; }

 private:
  enum class Mode { kUndecided, kText, kCallHead, kArguments, kAfterCall, kClosed, kUnexpected };
  // Acts on held_ in the current mode; false when it needs more bytes.
  bool Step(std::vector<Piece>* out);
  void Give(Piece::Kind kind, std::string text, std::vector<Piece>* out) const;

  Mode mode_ = Mode::kUndecided;
  std::string held_;  // bytes read, not yet given or passed over
  int call_ = -1;
  JsonTextScan arguments_;
};

}  // namespace anser::grammar
