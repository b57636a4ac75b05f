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
  engine_ = std::make_unique<Engine>(model_, tokenizer_.get(), options_.engine);
}

Parsed<Service::Origin> Service::ResolveOrigin(const std::string& state_id) {
  if (state_id.empty()) return server_state_ ? Origin{kServerStateOrigin, server_state_} : Origin{};
  const std::optional<NamedStates::Named> named = states_.Get(state_id);
  if (!named) {
    ApiError e = ApiError::NotFound("no state '" + state_id + "': it was never created, was deleted, or was evicted");
    e.param = "state";
    return e;
  }
  return Origin{named->origin, named->snapshot};
}

std::vector<int> Service::Encode(const Prompt& prompt) const {
  return prompt.is_ids ? prompt.ids : tokenizer_->Encode(prompt.text);
}

Parsed<std::shared_ptr<Job>> Service::Prepare(const GenerationRequest& r, Clock::time_point received) {
  Parsed<Origin> origin = ResolveOrigin(r.state);
  if (auto* e = std::get_if<ApiError>(&origin)) return *e;
  JobSpec spec;
  spec.origin = std::get<Origin>(origin).key;
  spec.origin_snapshot = std::get<Origin>(origin).snapshot;
  const bool chat = r.endpoint == Endpoint::kChatCompletions;
  if (chat) {
    std::string text = RenderChat(chat_, r.messages, /*open_reply=*/true);
    spec.prompt = tokenizer_->Encode(text);
    // A reply that continues the request's own assistant message is not a whole turn: nothing to cache.
    if (r.messages.empty() || r.messages.back().role != Role::kAssistant) spec.chat_prompt_text = std::move(text);
    spec.chat = &chat_;
    spec.stops = chat_.TurnStops();
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
  spec.deadline = received + std::chrono::seconds(options_.timeout_s);
  return std::make_shared<Job>(std::move(spec));
}

Parsed<std::shared_ptr<Job>> Service::PrepareState(const StateRequest& r, Clock::time_point received) {
  Parsed<Origin> origin = ResolveOrigin(r.state);
  if (auto* e = std::get_if<ApiError>(&origin)) return *e;
  JobSpec spec;
  spec.origin = std::get<Origin>(origin).key;
  spec.origin_snapshot = std::get<Origin>(origin).snapshot;
  // A conversation's turns are all closed: the state ends where the next message begins.
  spec.prompt = r.is_chat ? tokenizer_->Encode(RenderChat(chat_, r.messages, /*open_reply=*/false)) : Encode(r.prompt);
  if (spec.prompt.empty()) return ApiError::Invalid(r.is_chat ? "messages" : "prompt", "the prompt encodes to no tokens");
  spec.max_tokens = 0;
  spec.save_state = true;
  spec.deadline = received + std::chrono::seconds(options_.timeout_s);
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
  return c;
}

}  // namespace anser::serve
