// Tool (function) calls in the OpenAI style for RWKV models: how tools are described in the
// prompt, the grammar that keeps a call well-formed, and reading calls back from the reply.
// The format is documented in docs/STRUCTURED.md ("Tool calls").
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "anser/grammar.h"
#include "anser/status.h"

namespace anser {

struct ToolFunction {
  std::string name;         // [A-Za-z0-9_-], at most 64 characters (OpenAI's rule)
  std::string description;  // may be empty
  std::string parameters;   // a JSON Schema (JSON text) for the arguments object
};

struct ToolChoice {
  enum class Mode { kNone, kAuto, kRequired, kFunction };
  Mode mode = Mode::kAuto;
  std::string function;  // kFunction: the function that must be called
};

// OpenAI request fields: `tools` (the JSON array) and `tool_choice` ("none", "auto",
// "required" or {"type":"function","function":{"name":…}}). Errors name the bad field.
Result<std::vector<ToolFunction>> ParseOpenAiTools(std::string_view tools_json);
Result<ToolChoice> ParseOpenAiToolChoice(std::string_view tool_choice_json);

// The marker that opens a block of calls in a reply, and the one that closes it.
inline constexpr std::string_view kToolCallsOpen = "```json\n";
inline constexpr std::string_view kToolCallsClose = "\n```";

// The text describing `tools` and how to call them, for the system turn.
std::string RenderToolsPrompt(const std::vector<ToolFunction>& tools, const ToolChoice& choice,
                              bool parallel_tool_calls);

// The GBNF of a reply under `choice`: kRequired and kFunction admit only a block of calls (one,
// or one per line when `parallel_tool_calls`), each {"name": …, "arguments": …} with arguments
// matching that function's schema; kAuto admits that or plain text that does not start with "`";
// kNone only the plain text. Plain text ends at a blank line ("\n\n") or wherever the model
// ends. Errors: a bad schema (naming the function) or an unknown function.
Result<std::string> ToolCallGbnf(const std::vector<ToolFunction>& tools, const ToolChoice& choice,
                                 bool parallel_tool_calls);
Result<std::shared_ptr<const CompiledGrammar>> CompileToolCallGrammar(
    const std::vector<ToolFunction>& tools, const ToolChoice& choice, bool parallel_tool_calls,
    std::shared_ptr<const GrammarVocabulary> vocabulary);

struct ToolCall {
  std::string name;
  std::string arguments;  // JSON text of the arguments object
};

// A reply read back: either text (`calls` empty) or calls (`content` empty).
struct ToolReply {
  std::string content;
  std::vector<ToolCall> calls;
};

// Reads a reply written under the grammar. A reply that opens a block of calls but does not
// close it well (cut by the length limit) is an error.
Result<ToolReply> ParseToolReply(std::string_view reply);

// How an earlier assistant message with calls is written back into the prompt (the same text
// the grammar makes the model write, without the leading space).
std::string RenderToolCalls(const std::vector<ToolCall>& calls);
// The text of a turn carrying a tool's result (the server puts it in a "User:" turn).
std::string RenderToolResult(std::string_view name, std::string_view content);

}  // namespace anser
