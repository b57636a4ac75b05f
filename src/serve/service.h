// The model side of the server, free of HTTP: turns validated requests into engine jobs (prompt
// rendered and tokenized, origin state resolved, limits and deadline applied), and keeps the
// engine, the tokenizer, the chat template and the named states together.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "anser/model.h"
#include "anser/tokenizer.h"
#include "serve/chat_template.h"
#include "serve/engine.h"
#include "serve/job.h"
#include "serve/named_states.h"
#include "serve/request.h"
#include "serve/response.h"

namespace anser::serve {

struct ServiceOptions {
  std::string model_name;
  RequestLimits limits;  // n_vocab and has_tokenizer are filled in from the model
  SamplerOptions chat_sampling;        // defaults of /v1/chat/completions
  SamplerOptions completion_sampling;  // defaults of /v1/completions
  std::optional<uint64_t> default_seed;  // of requests without a seed (unset: a fresh seed each)
  int timeout_s = 600;
  int64_t states_bytes = int64_t{1024} << 20;
  EngineOptions engine;
};

class Service {
 public:
  // `tokenizer` may be null (token-id models); `server_state`, the --state file, may be null.
  Service(std::shared_ptr<const Model> model, std::unique_ptr<Tokenizer> tokenizer, ChatTemplate chat,
          SnapshotPtr server_state, ServiceOptions options);

  const ServiceOptions& options() const { return options_; }
  const ModelConfig& config() const { return model_->config(); }
  const Tokenizer* tokenizer() const { return tokenizer_.get(); }
  Engine& engine() { return *engine_; }
  NamedStates& states() { return states_; }

  // A generation job for `request`, received at `received` (its deadline counts from then).
  Parsed<std::shared_ptr<Job>> Prepare(const GenerationRequest& request, Clock::time_point received);
  // The job that prefills a POST /v1/states body; its one choice ends with the state.
  Parsed<std::shared_ptr<Job>> PrepareState(const StateRequest& request, Clock::time_point received);
  // How the response to `request` is written.
  ResponseContext ResponseFor(const GenerationRequest& request);

  // Bytes of the state file of one state of this model (bounds an upload's body).
  int64_t state_file_bytes() const { return state_file_bytes_; }

 private:
  // A spec starting from the named state `state_id` ("" = the server's initial state), with the
  // deadline of a request received at `received`.
  Parsed<JobSpec> NewSpec(const std::string& state_id, Clock::time_point received);
  std::vector<int> Encode(const Prompt& prompt) const;

  // The grammar of a request's structured output, compiled once per distinct schema or GBNF
  // text and kept (its token caches fill as requests use it), or the error naming the field.
  Parsed<std::shared_ptr<const CompiledGrammar>> GrammarFor(const OutputFormat& format);

  std::shared_ptr<const Model> model_;
  std::unique_ptr<Tokenizer> tokenizer_;
  std::shared_ptr<const GrammarVocabulary> vocabulary_;  // null without a tokenizer
  std::mutex grammars_mu_;
  std::map<std::pair<int, std::string>, std::shared_ptr<const CompiledGrammar>> grammars_;
  const ChatTemplate chat_;
  const SnapshotPtr server_state_;
  const ServiceOptions options_;
  NamedStates states_;
  int64_t state_file_bytes_ = 0;
  std::unique_ptr<Engine> engine_;  // last: stopped first
};

}  // namespace anser::serve
