#include "serve/service.h"

#include <random>

namespace anser::serve {
namespace {

ServiceOptions WithModel(ServiceOptions options, const ModelConfig& config, bool has_tokenizer) {
  options.limits.n_vocab = config.n_vocab;
  options.limits.has_tokenizer = has_tokenizer;
  options.limits.max_choices = options.engine.parallel;
  return options;
}

std::string RandomId(const char* prefix) {
  static thread_local std::mt19937_64 rng(std::random_device{}());
  static constexpr char kDigits[] = "0123456789abcdefghijklmnopqrstuvwxyz";
  std::string id = prefix;
  for (int i = 0; i < 24; ++i) id += kDigits[rng() % 36];
  return id;
}

uint64_t RandomSeed() {
  static thread_local std::mt19937_64 rng(std::random_device{}());
  return rng();
}

}  // namespace

Service::Service(std::shared_ptr<const Model> model, std::unique_ptr<Tokenizer> tokenizer, ChatTemplate chat,
                 SnapshotPtr server_state, ServiceOptions options)
    : model_(std::move(model)),
      tokenizer_(std::move(tokenizer)),
      chat_(std::move(chat)),
      server_state_(std::move(server_state)),
      options_(WithModel(std::move(options), model_->config(), tokenizer_ != nullptr)),
      states_(options_.states_bytes) {
  const State probe(model_->config());
  const Result<std::string> file = probe.Serialize();
  state_file_bytes_ = file.ok() ? static_cast<int64_t>(file.value().size()) : probe.bytes();
  if (tokenizer_ != nullptr) vocabulary_ = GrammarVocabulary::FromTokenizer(*tokenizer_, model_->config().n_vocab);
  engine_ = std::make_unique<Engine>(model_, tokenizer_.get(), options_.engine);
}

Parsed<std::shared_ptr<const CompiledGrammar>> Service::GrammarFor(const OutputFormat& format) {
  // Kept grammars are few and small until used; past this many the oldest set is dropped.
  constexpr size_t kMaxKept = 64;
  const auto key = std::make_pair(static_cast<int>(format.kind), format.text);
  {
    std::lock_guard lock(grammars_mu_);
    if (const auto it = grammars_.find(key); it != grammars_.end()) return it->second;
  }
  Result<std::shared_ptr<const CompiledGrammar>> compiled = Status::Error("no grammar");
  switch (format.kind) {
    case OutputFormat::Kind::kJsonObject: compiled = CompiledGrammar::AnyJson(vocabulary_); break;
    case OutputFormat::Kind::kJsonSchema: compiled = CompiledGrammar::FromJsonSchema(format.text, vocabulary_); break;
    case OutputFormat::Kind::kGbnf: compiled = CompiledGrammar::FromGbnf(format.text, vocabulary_); break;
    case OutputFormat::Kind::kTools:
      compiled = CompileToolCallGrammar(format.tools, format.tool_choice, format.parallel_tool_calls, vocabulary_);
      break;
    case OutputFormat::Kind::kText: break;
  }
  if (!compiled.ok()) return ApiError::Invalid(format.param, compiled.message());
  // The first mask fills the grammar's caches for its start: here, on the request's thread, not
  // in a decode step that every running sequence waits on.
  TokenMask first_mask;
  GrammarMatcher(compiled.value()).FillNextTokenMask(&first_mask);
  std::lock_guard lock(grammars_mu_);
  if (grammars_.size() >= kMaxKept) grammars_.clear();
  grammars_.emplace(key, compiled.value());
  return compiled.value();
}

Parsed<JobSpec> Service::NewSpec(const std::string& state_id, Clock::time_point received) {
  JobSpec spec;
  spec.deadline = received + std::chrono::seconds(options_.timeout_s);
  if (state_id.empty()) {
    if (server_state_) {
      spec.origin = kServerStateOrigin;
      spec.origin_snapshot = server_state_;
    }
    return spec;
  }
  const std::optional<NamedStates::Named> named = states_.Get(state_id);
  if (!named) {
    ApiError e = ApiError::NotFound("no state '" + state_id + "': it was never created, was deleted, or was evicted");
    e.param = "state";
    return e;
  }
  spec.origin = named->origin;
  spec.origin_snapshot = named->snapshot;
  return spec;
}

std::vector<int> Service::Encode(const Prompt& prompt) const {
  return prompt.is_ids ? prompt.ids : tokenizer_->Encode(prompt.text);
}

Parsed<std::shared_ptr<Job>> Service::Prepare(const GenerationRequest& r, Clock::time_point received) {
  Parsed<JobSpec> started = NewSpec(r.state, received);
  if (auto* e = std::get_if<ApiError>(&started)) return *e;
  JobSpec& spec = std::get<JobSpec>(started);
  if (r.format.kind != OutputFormat::Kind::kText) {
    Parsed<std::shared_ptr<const CompiledGrammar>> grammar = GrammarFor(r.format);
    if (auto* e = std::get_if<ApiError>(&grammar)) return *e;
    spec.grammar = std::get<std::shared_ptr<const CompiledGrammar>>(grammar);
  }
  const bool chat = r.endpoint == Endpoint::kChatCompletions;
  if (chat) {
    std::vector<ChatMessage> messages = r.messages;
    if (r.format.kind == OutputFormat::Kind::kTools) {
      // The tools are described at the end of the system turn (one is added when there is none).
      const std::string tools =
          RenderToolsPrompt(r.format.tools, r.format.tool_choice, r.format.parallel_tool_calls);
      if (!messages.empty() && messages.front().role == Role::kSystem) {
        messages.front().content += "\n" + tools;
      } else {
        messages.insert(messages.begin(), ChatMessage{Role::kSystem, tools});
      }
    }
    std::string text = RenderChat(chat_, messages, /*open_reply=*/true);
    spec.prompt = tokenizer_->Encode(text);
    // A reply that continues the request's own assistant message is not a whole turn: nothing to cache.
    if (r.messages.empty() || r.messages.back().role != Role::kAssistant) spec.chat_prompt_text = std::move(text);
    spec.chat = &chat_;
    // Under a grammar the reply ends where the grammar does: "\n\nUser:" may be content.
    if (r.format.kind == OutputFormat::Kind::kText) spec.stops = chat_.TurnStops();
    spec.end_of_text = EndOfText::kBanned;
  } else {
    spec.prompt = Encode(r.prompt);
    spec.end_of_text = EndOfText::kStops;
  }
  // Nothing to condition on and no logits to start from: begin after token 0, the token that
  // precedes every document in RWKV training data (as `anser generate` does).
  if (spec.prompt.empty() && (!spec.origin_snapshot || spec.origin_snapshot->logits.empty())) spec.prompt.push_back(0);
  spec.stops.insert(spec.stops.end(), r.stop.begin(), r.stop.end());
  spec.n = r.n;
  spec.max_tokens = r.max_tokens;
  spec.sampling = r.sampling;
  if (!r.seed_given) spec.sampling.seed = options_.default_seed.value_or(RandomSeed());
  spec.logit_bias = r.logit_bias;
  spec.logprobs = r.logprobs;
  spec.top_logprobs = r.top_logprobs;
  spec.save_state = r.save_state;
  return std::make_shared<Job>(std::move(spec));
}

Parsed<std::shared_ptr<Job>> Service::PrepareState(const StateRequest& r, Clock::time_point received) {
  Parsed<JobSpec> started = NewSpec(r.state, received);
  if (auto* e = std::get_if<ApiError>(&started)) return *e;
  JobSpec& spec = std::get<JobSpec>(started);
  // A conversation's turns are all closed: the state ends where the next message begins.
  spec.prompt = r.is_chat ? tokenizer_->Encode(RenderChat(chat_, r.messages, /*open_reply=*/false)) : Encode(r.prompt);
  if (spec.prompt.empty()) return ApiError::Invalid(r.is_chat ? "messages" : "prompt", "the prompt encodes to no tokens");
  spec.max_tokens = 0;
  spec.save_state = true;
  return std::make_shared<Job>(std::move(spec));
}

ResponseContext Service::ResponseFor(const GenerationRequest& r) {
  ResponseContext c;
  c.endpoint = r.endpoint;
  c.id = RandomId(r.endpoint == Endpoint::kChatCompletions ? "chatcmpl-" : "cmpl-");
  c.created = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  c.model = options_.model_name;
  c.n = r.n;
  c.logprobs = r.logprobs;
  c.include_usage = r.include_usage && r.stream;
  c.tokenizer = tokenizer_.get();
  c.states = &states_;
  c.tool_calls = r.format.kind == OutputFormat::Kind::kTools;
  return c;
}

}  // namespace anser::serve
