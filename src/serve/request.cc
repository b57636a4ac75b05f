#include "serve/request.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>

namespace anser::serve {
namespace {

using nlohmann::json;

std::string Num(double v) {
  std::string s = json(v).dump();
  if (s.size() > 2 && s.ends_with(".0")) s.resize(s.size() - 2);
  return s;
}

// Reads the optional fields of one JSON object, remembering the first error. A field that is
// absent or null keeps the caller's default.
class FieldReader {
 public:
  explicit FieldReader(const json& object) : object_(object) {}

  const json& body() const { return object_; }
  const std::optional<ApiError>& error() const { return error_; }
  bool ok() const { return !error_; }
  void Fail(const std::string& param, const std::string& message) {
    if (!error_) error_ = ApiError::Invalid(param, message);
  }

  const json* Find(const char* key) const {
    const auto it = object_.find(key);
    return it == object_.end() || it->is_null() ? nullptr : &*it;
  }

  void Number(const char* key, double lo, double hi, float* out) {
    const json* v = Find(key);
    if (v == nullptr || !ok()) return;
    if (!v->is_number()) return Fail(key, std::string("'") + key + "' must be a number");
    const double x = v->get<double>();
    if (!(x >= lo && x <= hi)) {
      return Fail(key, std::string("'") + key + "' is " + Num(x) + "; it must be between " + Num(lo) + " and " + Num(hi));
    }
    *out = static_cast<float>(x);
  }

  // An integer in [lo, hi]; an integral float such as 5.0 counts.
  template <class T>
  bool Integer(const json& v, const std::string& name, int64_t lo, int64_t hi, T* out) {
    if (!ok()) return false;
    int64_t x = 0;
    if (v.is_number_integer()) {
      if (v.is_number_unsigned() && v.get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
        Fail(name, "'" + name + "' is out of range; it must be between " + std::to_string(lo) + " and " + std::to_string(hi));
        return false;
      }
      x = v.get<int64_t>();
    } else if (v.is_number_float() && std::nearbyint(v.get<double>()) == v.get<double>() &&
               std::fabs(v.get<double>()) < 9e18) {
      x = static_cast<int64_t>(v.get<double>());
    } else {
      Fail(name, "'" + name + "' must be an integer");
      return false;
    }
    if (x < lo || x > hi) {
      Fail(name, "'" + name + "' is " + std::to_string(x) + "; it must be between " + std::to_string(lo) + " and " +
                     std::to_string(hi));
      return false;
    }
    *out = static_cast<T>(x);
    return true;
  }
  template <class T>
  void Integer(const char* key, int64_t lo, int64_t hi, T* out) {
    if (const json* v = Find(key)) Integer(*v, key, lo, hi, out);
  }

  void Bool(const char* key, bool* out) {
    const json* v = Find(key);
    if (v == nullptr || !ok()) return;
    if (!v->is_boolean()) return Fail(key, std::string("'") + key + "' must be true or false");
    *out = v->get<bool>();
  }

  void String(const char* key, std::string* out) {
    const json* v = Find(key);
    if (v == nullptr || !ok()) return;
    if (!v->is_string()) return Fail(key, std::string("'") + key + "' must be a string");
    *out = v->get<std::string>();
  }

 private:
  const json& object_;
  std::optional<ApiError> error_;
};

// Token ids, each in [0, n_vocab).
bool ReadIds(FieldReader& f, const json& array, const std::string& name, int n_vocab, std::vector<int>* ids) {
  ids->clear();
  ids->reserve(array.size());
  for (size_t i = 0; i < array.size(); ++i) {
    int id = 0;
    if (!f.Integer(array[i], name + "[" + std::to_string(i) + "]", 0, n_vocab - 1, &id)) return false;
    ids->push_back(id);
  }
  return true;
}

// `prompt`: a string, or an array of token ids.
void ReadPrompt(FieldReader& f, const RequestLimits& limits, bool empty_allowed, Prompt* prompt) {
  const json* v = f.Find("prompt");
  if (v == nullptr) return f.Fail("prompt", "'prompt' is required: a string, or an array of token ids");
  if (v->is_string()) {
    if (!limits.has_tokenizer) {
      return f.Fail("prompt", "this model has no tokenizer: 'prompt' must be an array of token ids");
    }
    prompt->text = v->get<std::string>();
  } else if (v->is_array()) {
    if (!v->empty() && ((*v)[0].is_string() || (*v)[0].is_array())) {
      return f.Fail("prompt", "one prompt per request: send several requests (or use 'n') instead of a batch");
    }
    prompt->is_ids = true;
    if (!ReadIds(f, *v, "prompt", limits.n_vocab, &prompt->ids)) return;
  } else {
    return f.Fail("prompt", "'prompt' must be a string or an array of token ids");
  }
  if (!empty_allowed && prompt->text.empty() && prompt->ids.empty()) f.Fail("prompt", "'prompt' is empty");
}

std::optional<Role> ParseRole(const std::string& role) {
  if (role == "system" || role == "developer") return Role::kSystem;
  if (role == "user") return Role::kUser;
  if (role == "assistant") return Role::kAssistant;
  return std::nullopt;
}

// A message's content (of messages[i], named by `at`): a string or an array of text parts.
// Fails `f` and returns false otherwise.
bool ReadContent(FieldReader& f, const json& content, const std::string& at, std::string* text) {
  if (content.is_string()) {
    *text = content.get<std::string>();
    return true;
  }
  if (!content.is_array()) {
    f.Fail(at + ".content", "'" + at + ".content' must be a string or an array of text parts");
    return false;
  }
  text->clear();
  for (size_t p = 0; p < content.size(); ++p) {
    const json& part = content[p];
    const std::string part_at = at + ".content[" + std::to_string(p) + "]";
    if (!part.is_object() || part.value("type", "") != "text" || !part.contains("text") || !part["text"].is_string()) {
      f.Fail(part_at, "'" + part_at + "' must be {\"type\": \"text\", \"text\": STRING}: only text is supported");
      return false;
    }
    *text += part["text"].get<std::string>();
  }
  return true;
}

void ReadMessages(FieldReader& f, const RequestLimits& limits, std::vector<ChatMessage>* messages, bool empty_allowed) {
  if (!limits.has_tokenizer) {
    return f.Fail("messages", "chat needs a tokenizer, and this model has none: use /v1/completions with token ids");
  }
  const json* v = f.Find("messages");
  if (v == nullptr || !v->is_array()) return f.Fail("messages", "'messages' is required: an array of messages");
  if (v->empty() && !empty_allowed) return f.Fail("messages", "'messages' is empty");
  std::map<std::string, std::string> call_names;  // tool_call_id → function name
  for (size_t i = 0; i < v->size(); ++i) {
    const std::string at = "messages[" + std::to_string(i) + "]";
    const json& m = (*v)[i];
    if (!m.is_object()) return f.Fail(at, "'" + at + "' must be an object with 'role' and 'content'");
    const auto role_it = m.find("role");
    if (role_it != m.end() && *role_it == "tool") {
      // A tool's result: a user turn naming the function whose call it answers.
      const auto id = m.find("tool_call_id");
      const auto content = m.find("content");
      if (id == m.end() || !id->is_string() || !call_names.count(id->get<std::string>())) {
        return f.Fail(at + ".tool_call_id", "'" + at + ".tool_call_id' must be the id of an earlier tool call");
      }
      if (content == m.end() || content->is_null()) return f.Fail(at + ".content", "'" + at + ".content' is required");
      std::string result;
      if (!ReadContent(f, *content, at, &result)) return;
      messages->push_back({Role::kUser, RenderToolResult(call_names[id->get<std::string>()], result)});
      continue;
    }
    if (const auto calls = m.find("tool_calls"); role_it != m.end() && *role_it == "assistant" && calls != m.end() &&
                                                  !calls->is_null()) {
      // An assistant message that called tools, written back as the model wrote the calls.
      std::vector<ToolCall> parsed;
      for (size_t k = 0; calls->is_array() && k < calls->size(); ++k) {
        const json& c = (*calls)[k];
        const bool ok = c.is_object() && c.contains("id") && c["id"].is_string() && c.contains("function") &&
                        c["function"].is_object() && c["function"].contains("name") &&
                        c["function"]["name"].is_string() && c["function"].contains("arguments") &&
                        c["function"]["arguments"].is_string();
        if (!ok) {
          return f.Fail(at + ".tool_calls", "'" + at + ".tool_calls' entries must be {\"id\", \"type\": \"function\", "
                                            "\"function\": {\"name\", \"arguments\"}}");
        }
        parsed.push_back({c["function"]["name"].get<std::string>(), c["function"]["arguments"].get<std::string>()});
        call_names[c["id"].get<std::string>()] = parsed.back().name;
      }
      if (parsed.empty()) return f.Fail(at + ".tool_calls", "'" + at + ".tool_calls' must be a non-empty array");
      messages->push_back({Role::kAssistant, RenderToolCalls(parsed)});
      continue;
    }
    const std::optional<Role> role =
        role_it != m.end() && role_it->is_string() ? ParseRole(role_it->get<std::string>()) : std::nullopt;
    if (!role) {
      return f.Fail(at + ".role", "'" + at + ".role' must be \"system\", \"developer\", \"user\", \"assistant\" or \"tool\"");
    }
    ChatMessage message{*role, ""};
    const auto content = m.find("content");
    if (content == m.end() || content->is_null()) {
      if (*role != Role::kAssistant) return f.Fail(at + ".content", "'" + at + ".content' is required");
    } else if (!ReadContent(f, *content, at, &message.content)) {
      return;
    }
    messages->push_back(std::move(message));
  }
}

// The most keys any object in `v` has (walked without recursion: a body may nest deeply).
size_t LargestObject(const json& v) {
  size_t largest = 0;
  std::vector<const json*> pending = {&v};
  while (!pending.empty()) {
    const json* j = pending.back();
    pending.pop_back();
    if (j->is_object()) largest = std::max(largest, j->size());
    if (j->is_structured()) {
      for (const json& child : *j) pending.push_back(&child);
    }
  }
  return largest;
}

// The JSON text of `value` (found at `pointer` in the body) with its objects' keys in the order of
// `body_text`. An order-keeping parse costs time quadratic in an object's key count, so a body
// with an object of over kMaxOrderedKeys keys, or no text, gives sorted keys.
std::string InBodyOrder(const json& body, const json& value, std::string_view body_text, const std::string& pointer) {
  constexpr size_t kMaxOrderedKeys = 1024;
  if (body_text.empty() || LargestObject(body) > kMaxOrderedKeys) return value.dump();
  const nlohmann::ordered_json ordered = nlohmann::ordered_json::parse(body_text, nullptr, /*allow_exceptions=*/false);
  const nlohmann::ordered_json::json_pointer at(pointer);
  if (ordered.is_discarded() || !ordered.contains(at)) return value.dump();
  return ordered.at(at).dump();
}

// `response_format`, `grammar`, or (chat) `tools` with `tool_choice` and
// `parallel_tool_calls`: at most one of the three.
void ReadOutputFormat(FieldReader& f, const RequestLimits& limits, Endpoint endpoint, std::string_view body_text,
                      OutputFormat* format) {
  const json* response_format = f.Find("response_format");
  const json* grammar = f.Find("grammar");
  const json* tools = f.Find("tools");
  const bool has_format = response_format != nullptr &&
                          !(response_format->is_object() && response_format->value("type", "") == "text");
  const bool has_tools = tools != nullptr && !(tools->is_array() && tools->empty());
  if ((has_format ? 1 : 0) + (grammar != nullptr ? 1 : 0) + (has_tools ? 1 : 0) > 1) {
    return f.Fail(grammar != nullptr ? "grammar" : "tools",
                  "only one of 'grammar', 'response_format' and 'tools' may be given");
  }
  const json* tool_choice = f.Find("tool_choice");
  if (!has_tools) {
    if (tool_choice != nullptr && !(tool_choice->is_string() && *tool_choice == "none")) {
      return f.Fail("tool_choice", "'tool_choice' needs 'tools'");
    }
  } else {
    if (endpoint != Endpoint::kChatCompletions) return f.Fail("tools", "'tools' is for /v1/chat/completions");
    if (!limits.has_tokenizer) return f.Fail("tools", "'tools' needs a tokenizer, and this model has none");
    const std::string tools_text = InBodyOrder(f.body(), *tools, body_text, "/tools");
    Result<std::vector<ToolFunction>> functions = ParseOpenAiTools(tools_text);
    if (!functions.ok()) return f.Fail("tools", functions.message());
    ToolChoice choice;
    if (tool_choice != nullptr) {
      Result<ToolChoice> parsed = ParseOpenAiToolChoice(tool_choice->dump());
      if (!parsed.ok()) return f.Fail("tool_choice", parsed.message());
      choice = parsed.value();
    }
    bool parallel = true;
    if (const json* p = f.Find("parallel_tool_calls")) {
      if (!p->is_boolean()) return f.Fail("parallel_tool_calls", "'parallel_tool_calls' must be true or false");
      parallel = p->get<bool>();
    }
    format->kind = OutputFormat::Kind::kTools;
    format->param = "tools";
    format->text = tools_text + (tool_choice != nullptr ? tool_choice->dump() : "") + (parallel ? "1" : "0");
    format->tools = std::move(functions).value();
    format->tool_choice = choice;
    format->parallel_tool_calls = parallel;
    return;
  }
  if ((has_format || grammar != nullptr) && !limits.has_tokenizer) {
    return f.Fail(grammar != nullptr ? "grammar" : "response_format",
                  "structured output needs a tokenizer, and this model has none");
  }
  if (grammar != nullptr) {
    if (!grammar->is_string() || grammar->get<std::string>().empty()) {
      return f.Fail("grammar", "'grammar' must be GBNF text (a non-empty string)");
    }
    format->kind = OutputFormat::Kind::kGbnf;
    format->text = grammar->get<std::string>();
    format->param = "grammar";
    return;
  }
  if (response_format == nullptr) return;
  const std::string type = response_format->is_object() ? response_format->value("type", "") : "";
  if (type == "text") return;
  if (type == "json_object") {
    format->kind = OutputFormat::Kind::kJsonObject;
    format->param = "response_format";
    return;
  }
  if (type != "json_schema") {
    return f.Fail("response_format",
                  "'response_format' must be {\"type\": \"text\"}, {\"type\": \"json_object\"} or "
                  "{\"type\": \"json_schema\", \"json_schema\": {\"name\", \"schema\"}}");
  }
  const auto spec = response_format->find("json_schema");
  if (spec == response_format->end() || !spec->is_object()) {
    return f.Fail("response_format", "'response_format.json_schema' must be an object");
  }
  const std::string name = spec->contains("name") && (*spec)["name"].is_string() ? (*spec)["name"].get<std::string>() : "";
  const bool name_ok = !name.empty() && name.size() <= 64 &&
                       std::all_of(name.begin(), name.end(), [](char c) {
                         return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == '-';
                       });
  if (!name_ok) {
    return f.Fail("response_format", "'response_format.json_schema.name' must be 1-64 characters of a-z, A-Z, 0-9, _ and -");
  }
  if (!spec->contains("schema") || !((*spec)["schema"].is_object() || (*spec)["schema"].is_boolean())) {
    return f.Fail("response_format", "'response_format.json_schema.schema' must be a JSON Schema");
  }
  if (spec->contains("strict") && !(*spec)["strict"].is_boolean()) {
    return f.Fail("response_format", "'response_format.json_schema.strict' must be true or false");
  }
  // The output always follows the schema: `strict` changes nothing.
  format->kind = OutputFormat::Kind::kJsonSchema;
  format->text = InBodyOrder(f.body(), (*spec)["schema"], body_text, "/response_format/json_schema/schema");
  format->param = "response_format";
}

void ReadStop(FieldReader& f, const RequestLimits& limits, std::vector<std::string>* stop) {
  const json* v = f.Find("stop");
  if (v == nullptr || !f.ok()) return;
  if (!limits.has_tokenizer) return f.Fail("stop", "'stop' needs a tokenizer, and this model has none");
  if (v->is_string()) {
    stop->push_back(v->get<std::string>());
    return;
  }
  if (!v->is_array() || v->size() > 4) return f.Fail("stop", "'stop' must be a string or an array of up to 4 strings");
  for (const json& s : *v) {
    if (!s.is_string()) return f.Fail("stop", "'stop' must be a string or an array of up to 4 strings");
    stop->push_back(s.get<std::string>());
  }
}

void ReadLogitBias(FieldReader& f, int n_vocab, std::vector<std::pair<int, float>>* bias) {
  const json* v = f.Find("logit_bias");
  if (v == nullptr || !f.ok()) return;
  if (!v->is_object()) return f.Fail("logit_bias", "'logit_bias' must be an object of token id → bias");
  for (const auto& [key, value] : v->items()) {
    char* end = nullptr;
    const long id = std::strtol(key.c_str(), &end, 10);
    if (key.empty() || *end != '\0' || id < 0 || id >= n_vocab) {
      return f.Fail("logit_bias", "'logit_bias' key \"" + key + "\" is not a token id below " + std::to_string(n_vocab));
    }
    if (!value.is_number() || !(value.get<double>() >= -100 && value.get<double>() <= 100)) {
      return f.Fail("logit_bias", "'logit_bias' values must be numbers between -100 and 100");
    }
    bias->emplace_back(static_cast<int>(id), value.get<float>());
  }
}

void ReadSampling(FieldReader& f, SamplerOptions* s, bool* seed_given) {
  f.Number("temperature", 0, 2, &s->temperature);
  f.Number("top_p", 0, 1, &s->top_p);
  f.Integer("top_k", 0, std::numeric_limits<int>::max(), &s->top_k);
  f.Number("min_p", 0, 1, &s->min_p);
  f.Number("presence_penalty", -2, 2, &s->presence_penalty);
  f.Number("frequency_penalty", -2, 2, &s->frequency_penalty);
  f.Number("penalty_decay", 0, 1, &s->penalty_decay);
  if (const json* seed = f.Find("seed")) {
    int64_t value = 0;
    if (f.Integer(*seed, "seed", std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::max(), &value)) {
      s->seed = static_cast<uint64_t>(value);
      *seed_given = true;
    }
  }
}

template <class T>
Parsed<T> Finish(const FieldReader& f, T value) {
  if (f.error()) return *f.error();
  return value;
}

ApiError NotAnObject() { return ApiError::Invalid("", "the request body must be a JSON object"); }

}  // namespace

Parsed<GenerationRequest> ParseGenerationRequest(const json& body, Endpoint endpoint, const RequestLimits& limits,
                                                 const SamplerOptions& defaults, std::string_view body_text) {
  if (!body.is_object()) return NotAnObject();
  FieldReader f(body);
  GenerationRequest r;
  r.endpoint = endpoint;
  r.sampling = defaults;
  const bool chat = endpoint == Endpoint::kChatCompletions;
  if (chat) {
    ReadMessages(f, limits, &r.messages, /*empty_allowed=*/f.Find("state") != nullptr);
  } else {
    ReadPrompt(f, limits, /*empty_allowed=*/true, &r.prompt);
  }
  r.max_tokens = limits.default_max_tokens;
  f.Integer("max_tokens", 0, limits.max_tokens_limit, &r.max_tokens);
  if (chat) f.Integer("max_completion_tokens", 0, limits.max_tokens_limit, &r.max_tokens);
  ReadSampling(f, &r.sampling, &r.seed_given);
  ReadStop(f, limits, &r.stop);
  f.Integer("n", 1, limits.max_choices, &r.n);
  ReadLogitBias(f, limits.n_vocab, &r.logit_bias);
  if (chat) {
    f.Bool("logprobs", &r.logprobs);
    f.Integer("top_logprobs", 0, 20, &r.top_logprobs);
    if (f.ok() && f.Find("top_logprobs") != nullptr && !r.logprobs) {
      f.Fail("top_logprobs", "'top_logprobs' needs 'logprobs': true");
    }
  } else if (f.Find("logprobs") != nullptr) {
    r.logprobs = f.Integer(*f.Find("logprobs"), "logprobs", 0, 5, &r.top_logprobs);
  }
  f.Bool("stream", &r.stream);
  if (const json* options = f.Find("stream_options"); options != nullptr && f.ok()) {
    if (!options->is_object()) {
      f.Fail("stream_options", "'stream_options' must be an object");
    } else if (options->contains("include_usage")) {
      if (!(*options)["include_usage"].is_boolean()) {
        f.Fail("stream_options.include_usage", "'stream_options.include_usage' must be true or false");
      } else {
        r.include_usage = (*options)["include_usage"].get<bool>();
      }
    }
  }
  f.String("state", &r.state);
  f.Bool("save_state", &r.save_state);
  ReadOutputFormat(f, limits, endpoint, body_text, &r.format);
  return Finish(f, std::move(r));
}

Parsed<StateRequest> ParseStateRequest(const json& body, const RequestLimits& limits) {
  if (!body.is_object()) return NotAnObject();
  FieldReader f(body);
  StateRequest r;
  r.is_chat = body.contains("messages");
  if (r.is_chat == body.contains("prompt")) {
    return ApiError::Invalid("prompt", "give exactly one of 'prompt' and 'messages'");
  }
  if (r.is_chat) {
    ReadMessages(f, limits, &r.messages, /*empty_allowed=*/false);
  } else {
    ReadPrompt(f, limits, /*empty_allowed=*/false, &r.prompt);
  }
  f.String("state", &r.state);
  return Finish(f, std::move(r));
}

Parsed<std::string> ParseTokenizeRequest(const json& body) {
  if (!body.is_object()) return NotAnObject();
  const auto it = body.find("content");
  if (it == body.end() || !it->is_string()) return ApiError::Invalid("content", "'content' must be a string");
  return it->get<std::string>();
}

Parsed<std::vector<int>> ParseDetokenizeRequest(const json& body, int n_vocab) {
  if (!body.is_object()) return NotAnObject();
  FieldReader f(body);
  const json* tokens = f.Find("tokens");
  if (tokens == nullptr || !tokens->is_array()) return ApiError::Invalid("tokens", "'tokens' must be an array of token ids");
  std::vector<int> ids;
  ReadIds(f, *tokens, "tokens", n_vocab, &ids);
  return Finish(f, std::move(ids));
}

}  // namespace anser::serve
