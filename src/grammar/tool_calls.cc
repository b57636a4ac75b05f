#include "anser/tool_calls.h"

#include <nlohmann/json.hpp>
#include <set>
#include <utility>

#include "grammar/gbnf_text.h"
#include "grammar/json_schema.h"
#include "grammar/json_text_scan.h"

namespace anser {
namespace {

using Json = nlohmann::ordered_json;

bool ValidName(const std::string& name) {
  if (name.empty() || name.size() > 64) return false;
  for (const char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

// Plain text: not starting with "`" (which would open a block of calls), any characters, no
// blank line inside; it may end with one, which completes the reply.
constexpr char kPlainTextRules[] =
    "tool-text ::= [^`\\n] ( [^\\n] | \"\\n\" [^\\n] )* \"\\n\"{0,2}\n";

// The end of the JSON value starting at `begin` (an object or array), or npos.
size_t EndOfJsonValue(std::string_view text, size_t begin) {
  grammar::JsonTextScan scan;
  for (size_t i = begin; i < text.size(); ++i) {
    const char c = text[i];
    scan.Take(c);
    if (!scan.in_string && scan.depth == 0 && (c == '}' || c == ']')) return i + 1;
  }
  return std::string_view::npos;
}

}  // namespace

Result<std::vector<ToolFunction>> ParseOpenAiTools(std::string_view tools_json) {
  Json tools;
  try {
    tools = Json::parse(tools_json);
  } catch (const Json::exception& e) {
    return Status::Error(std::string("[tools] 'tools' is not valid JSON: ") + e.what());
  }
  if (!tools.is_array() || tools.empty()) {
    return Status::Error("[tools] 'tools' must be a non-empty array");
  }
  std::vector<ToolFunction> out;
  std::set<std::string> names;
  for (size_t k = 0; k < tools.size(); ++k) {
    const std::string where = "[tools] tools[" + std::to_string(k) + "]";
    const Json& tool = tools[k];
    if (!tool.is_object() || tool.value("type", "") != "function" || !tool.contains("function") ||
        !tool["function"].is_object()) {
      return Status::Error(where + " must be {\"type\": \"function\", \"function\": {…}}");
    }
    const Json& f = tool["function"];
    ToolFunction function;
    if (!f.contains("name") || !f["name"].is_string() ||
        !ValidName(function.name = f["name"].get<std::string>())) {
      return Status::Error(where +
                           ".function.name must be 1–64 characters of a-z, A-Z, 0-9, _ and -");
    }
    if (!names.insert(function.name).second) {
      return Status::Error(where + ": a second function named '" + function.name + "'");
    }
    if (f.contains("description")) {
      if (!f["description"].is_string())
        return Status::Error(where + ".function.description must be a string");
      function.description = f["description"].get<std::string>();
    }
    function.parameters = f.contains("parameters") ? f["parameters"].dump() : "{}";
    out.push_back(std::move(function));
  }
  return out;
}

Result<ToolChoice> ParseOpenAiToolChoice(std::string_view tool_choice_json) {
  Json choice;
  try {
    choice = Json::parse(tool_choice_json);
  } catch (const Json::exception& e) {
    return Status::Error(std::string("[tools] 'tool_choice' is not valid JSON: ") + e.what());
  }
  if (choice == "none") return ToolChoice{ToolChoice::Mode::kNone, ""};
  if (choice == "auto") return ToolChoice{ToolChoice::Mode::kAuto, ""};
  if (choice == "required") return ToolChoice{ToolChoice::Mode::kRequired, ""};
  if (choice.is_object() && choice.value("type", "") == "function" && choice.contains("function") &&
      choice["function"].is_object() && choice["function"].contains("name") &&
      choice["function"]["name"].is_string()) {
    return ToolChoice{ToolChoice::Mode::kFunction, choice["function"]["name"].get<std::string>()};
  }
  return Status::Error(
      "[tools] 'tool_choice' must be \"none\", \"auto\", \"required\" or "
      "{\"type\": \"function\", \"function\": {\"name\": …}}");
}

std::string RenderToolsPrompt(const std::vector<ToolFunction>& tools, const ToolChoice& choice,
                              bool parallel_tool_calls) {
  std::string out = "Tools:\n";
  for (const ToolFunction& tool : tools) {
    Json line = Json::object();
    line["name"] = tool.name;
    if (!tool.description.empty()) line["description"] = tool.description;
    try {
      line["parameters"] = Json::parse(tool.parameters);
    } catch (const Json::exception&) {
      line["parameters"] = tool.parameters;  // shown as given; the grammar reports the error
    }
    out += line.dump() + "\n";
  }
  out += "To call a tool, reply with only a ```json block holding ";
  out += parallel_tool_calls ? "one call per line" : "one call";
  out += ", like:\n```json\n{\"name\": \"TOOL\", \"arguments\": {…}}\n```\n";
  switch (choice.mode) {
    case ToolChoice::Mode::kNone:
      out += "Do not call a tool now: answer in text.";
      break;
    case ToolChoice::Mode::kAuto:
      out += "Call a tool when it helps; otherwise answer in text.";
      break;
    case ToolChoice::Mode::kRequired:
      out += "Call a tool now.";
      break;
    case ToolChoice::Mode::kFunction:
      out += "Call " + choice.function + " now.";
      break;
  }
  return out;
}

Result<std::string> ToolCallGbnf(const std::vector<ToolFunction>& tools, const ToolChoice& choice,
                                 bool parallel_tool_calls) {
  if (choice.mode == ToolChoice::Mode::kNone) {
    return std::string("root ::= \" \"? tool-text\n") + kPlainTextRules;
  }
  std::vector<std::string> calls;
  std::vector<std::pair<std::string, std::string>> rules;
  std::set<std::string> seen;
  bool found = false;
  for (size_t k = 0; k < tools.size(); ++k) {
    const ToolFunction& tool = tools[k];
    if (choice.mode == ToolChoice::Mode::kFunction && tool.name != choice.function) continue;
    found = true;
    Result<grammar::SchemaGrammar> arguments =
        grammar::ConvertJsonSchema(tool.parameters, "tool" + std::to_string(k) + "-");
    if (!arguments.ok()) {
      return Status::Error("[tools] parameters of '" + tool.name + "': " + arguments.message());
    }
    calls.push_back(grammar::Concat(
        {grammar::GbnfLiteral("{\"name\": "), grammar::JsonStringLiteral(tool.name), " ",
         grammar::GbnfLiteral(", \"arguments\": "), " ", arguments->value, " \"}\""}));
    for (auto& rule : arguments->rules) {
      if (seen.insert(rule.first).second) rules.push_back(std::move(rule));
    }
  }
  if (!found) {
    if (choice.mode == ToolChoice::Mode::kFunction) {
      return Status::Error("[tools] tool_choice names '" + choice.function +
                           "', which is not among the tools");
    }
    return Status::Error("[tools] no tools to call");
  }
  std::string out = "root ::= \" \"? ";
  out += choice.mode == ToolChoice::Mode::kAuto ? "( tool-calls | tool-text )\n" : "tool-calls\n";
  out += grammar::Concat({"tool-calls ::= ", grammar::GbnfLiteral(kToolCallsOpen), " tool-call",
                          parallel_tool_calls ? " ( \"\\n\" tool-call )*" : "", " ",
                          grammar::GbnfLiteral(kToolCallsClose), "\n"});
  out += "tool-call ::= " + grammar::JoinAlternatives(calls) + "\n";
  if (choice.mode == ToolChoice::Mode::kAuto) out += kPlainTextRules;
  return out + grammar::RulesText(rules);
}

Result<std::shared_ptr<const CompiledGrammar>> CompileToolCallGrammar(
    const std::vector<ToolFunction>& tools, const ToolChoice& choice, bool parallel_tool_calls,
    std::shared_ptr<const GrammarVocabulary> vocabulary) {
  ANSER_ASSIGN_OR_RETURN(std::string gbnf, ToolCallGbnf(tools, choice, parallel_tool_calls));
  return CompiledGrammar::FromGbnf(gbnf, std::move(vocabulary));
}

Result<ToolReply> ParseToolReply(std::string_view reply) {
  ToolReply out;
  std::string_view text = reply;
  if (text.starts_with(' ')) text.remove_prefix(1);
  if (!text.starts_with(kToolCallsOpen)) {
    while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.remove_suffix(1);
    out.content = std::string(text);
    return out;
  }
  size_t at = kToolCallsOpen.size();
  while (true) {
    const size_t end =
        text.substr(at, 1) == "{" ? EndOfJsonValue(text, at) : std::string_view::npos;
    if (end == std::string_view::npos) {
      return Status::Error(
          "[tools] the reply opens a tool call it does not finish (cut by the length limit?)");
    }
    Json call;
    try {
      call = Json::parse(text.substr(at, end - at));
    } catch (const Json::exception& e) {
      return Status::Error(std::string("[tools] a tool call is not valid JSON: ") + e.what());
    }
    if (!call.contains("name") || !call["name"].is_string() || !call.contains("arguments")) {
      return Status::Error("[tools] a tool call lacks \"name\" or \"arguments\"");
    }
    // The grammar writes {"name": NAME, "arguments": ARGUMENTS}: the arguments are the model's
    // text, made compact, as ToolReplyStream gives them.
    const std::string name = call["name"].get<std::string>();
    const std::string compact = grammar::CompactJson(text.substr(at, end - at));
    const std::string head = "{\"name\":" + Json(name).dump() + ",\"arguments\":";
    out.calls.push_back({name, compact.starts_with(head) ? compact.substr(head.size(), compact.size() - head.size() - 1)
                                                         : call["arguments"].dump()});
    at = end;
    if (text.substr(at) == kToolCallsClose) return out;
    if (text.substr(at, 1) != "\n") break;
    ++at;
  }
  return Status::Error("[tools] the block of tool calls is not closed with ```");
}

std::string RenderToolCalls(const std::vector<ToolCall>& calls) {
  std::string out(kToolCallsOpen);
  for (size_t k = 0; k < calls.size(); ++k) {
    if (k > 0) out += "\n";
    out +=
        "{\"name\": " + Json(calls[k].name).dump() + ", \"arguments\": " + calls[k].arguments + "}";
  }
  out += kToolCallsClose;
  return out;
}

std::string RenderToolResult(std::string_view name, std::string_view content) {
  return grammar::Concat({"Function output (", name, "):\n", content});
}

}  // namespace anser
