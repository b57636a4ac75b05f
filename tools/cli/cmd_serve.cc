// anser serve: the OpenAI-compatible HTTP server (src/serve), with the sampling flags of `chat`
// as the defaults of requests that omit them.
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include "common.h"
#include "serve/server.h"

namespace anser::cli {
namespace {

struct ServeArgs {
  serve::ServerOptions server;
  int64_t state_cache_mb = 512;
  int64_t states_mb = 1024;
  int64_t body_limit_mb = 8;
  SamplerOptions sampling;  // only the flags given override the endpoints' defaults
};

// The defaults of each endpoint: `chat`'s for chat completions, `generate`'s for completions.
constexpr SamplerOptions kCompletionDefaults{};

// `options` with every sampling flag the user gave replaced by its value.
SamplerOptions WithGivenFlags(SamplerOptions options, const CLI::App& sub, const SamplerOptions& given) {
  const auto take = [&](const char* flag, auto member) {
    if (sub.count(flag) > 0) options.*member = given.*member;
  };
  take("--temperature", &SamplerOptions::temperature);
  take("--top-p", &SamplerOptions::top_p);
  take("--top-k", &SamplerOptions::top_k);
  take("--min-p", &SamplerOptions::min_p);
  take("--presence-penalty", &SamplerOptions::presence_penalty);
  take("--frequency-penalty", &SamplerOptions::frequency_penalty);
  take("--penalty-decay", &SamplerOptions::penalty_decay);
  return options;
}

int RunServe(ServeArgs a, const CLI::App& sub) {
  serve::ServerOptions& o = a.server;
  auto model_path = ModelOrDefault(o.model_path);
  if (!model_path.ok()) return Fail(model_path.message());
  o.model_path = *model_path;
  std::error_code error;
  if (!std::filesystem::exists(o.model_path, error)) {
    return Fail("model '" + o.model_path +
                "' not found: pass -m with an RWKV-7 .pth/.gguf file or a Hugging Face folder");
  }
  if (o.http.api_key.empty()) {
    if (const char* key = std::getenv("ANSER_API_KEY")) o.http.api_key = key;
  }
  o.http.body_limit_bytes = a.body_limit_mb << 20;
  // Every open stream, every queued request and a few short requests (health, metrics) each
  // hold a connection thread.
  o.http.connections = o.service.engine.parallel + o.service.engine.queue + 8;
  o.service.engine.cache_bytes = a.state_cache_mb << 20;
  o.service.states_bytes = a.states_mb << 20;
  o.service.chat_sampling = WithGivenFlags(kChatSamplerOptions, sub, a.sampling);
  o.service.completion_sampling = WithGivenFlags(kCompletionDefaults, sub, a.sampling);
  if (sub.count("--seed") > 0) o.service.default_seed = a.sampling.seed;
  if (o.service.limits.default_max_tokens > o.service.limits.max_tokens_limit) {
    return Fail("--default-max-tokens must not exceed --max-tokens-limit");
  }
  return serve::RunServer(o, [](const std::string& line) { std::fprintf(stderr, "%s\n", line.c_str()); });
}

}  // namespace

Command AddServe(CLI::App& app) {
  auto args = std::make_shared<ServeArgs>();
  serve::ServerOptions& o = args->server;
  CLI::App* sub = app.add_subcommand(
      "serve",
      "Serve the model over HTTP: OpenAI-compatible /v1/chat/completions and /v1/completions with "
      "continuous batching and a prefix state cache, the state API, /metrics, and a chat page at /");
  sub->add_option("-m,--model", o.model_path,
                  "Model: an RWKV-7 .pth/.gguf file or a Hugging Face folder (default: Anser's own "
                  "byte-level Shakespeare model)")
      ->type_name("MODEL");
  sub->add_option("--vocab", o.vocab, "World vocabulary file (as for generate)")->type_name("FILE");
  sub->add_option("--host", o.host, "Address to listen on")->capture_default_str();
  sub->add_option("--port", o.port, "Port to listen on (0 = any free port, printed on stderr)")
      ->check(CLI::Range(0, 65535))
      ->capture_default_str();
  sub->add_option("--parallel", o.service.engine.parallel, "Sequences decoded together at most (one per choice)")
      ->check(CLI::Range(1, 256))
      ->capture_default_str();
  AddThreadsFlag(sub, &o.service.engine.threads);
  sub->add_option("--state-cache-mb", args->state_cache_mb, "Memory for the prefix state cache (0 = off)")
      ->check(CLI::Range(int64_t{0}, int64_t{1} << 20))
      ->capture_default_str();
  sub->add_option("--states-mb", args->states_mb, "Memory for the named states of the state API")
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 20))
      ->capture_default_str();
  sub->add_option("--api-key", o.http.api_key, "Require 'Authorization: Bearer KEY' (default: $ANSER_API_KEY)");
  sub->add_option("--max-tokens-limit", o.service.limits.max_tokens_limit, "Largest max_tokens a request may ask for")
      ->check(CLI::Range(1, 1 << 24))
      ->capture_default_str();
  sub->add_option("--default-max-tokens", o.service.limits.default_max_tokens, "max_tokens of requests that omit it")
      ->check(CLI::Range(0, 1 << 24))
      ->capture_default_str();
  sub->add_option("--queue", o.service.engine.queue, "Requests waiting for a slot at most (more get 429)")
      ->check(CLI::Range(0, 4096))
      ->capture_default_str();
  sub->add_option("--body-limit-mb", args->body_limit_mb, "Largest request body (413 above)")
      ->check(CLI::Range(int64_t{1}, int64_t{4096}))
      ->capture_default_str();
  sub->add_option("--timeout-s", o.service.timeout_s, "A request running longer (queue wait included) ends with a timeout error")
      ->check(CLI::Range(1, 86400 * 7))
      ->capture_default_str();
  sub->add_option("--chat-template-file", o.chat_template_file,
                  "JSON file replacing the chat turn prefixes and separator (see docs/SERVER.md)")
      ->check(CLI::ExistingFile);
  sub->add_option("--state", o.state_file, "Initial state of every request (e.g. a tuned state from 'anser train --tune state')")
      ->check(CLI::ExistingFile);
  sub->add_option("--served-model-name", o.service.model_name, "Model id in responses and /v1/models (default: the file's name)");
  CLI::Option* seed = nullptr;
  args->sampling = kChatSamplerOptions;
  AddSamplingFlags(sub, &args->sampling, &seed);
  return {sub, [args, sub] { return RunServe(*args, *sub); }};
}

}  // namespace anser::cli
