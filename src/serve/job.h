// A generation job as the engine runs it, and the channel its results come back through. The
// HTTP front end builds the job from a validated request (prompt tokenized, origin resolved),
// submits it to the engine, and reads the events while the engine produces them.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "anser/grammar.h"
#include "anser/sampler.h"
#include "serve/api_error.h"
#include "serve/chat_template.h"
#include "serve/snapshot.h"

namespace anser::serve {

using Clock = std::chrono::steady_clock;

// What token 0, the end-of-text token, does: in a chat it is never sampled; in a completion it
// ends the choice.
enum class EndOfText { kBanned, kStops };

enum class FinishReason { kStop, kLength };

struct JobSpec {
  OriginKey origin = kZeroOrigin;
  SnapshotPtr origin_snapshot;  // the state the prompt continues; null = the zero state
  std::vector<int> prompt;      // token ids fed after the origin (at least one unless a full cache hit)
  int n = 1;
  int max_tokens = 0;
  SamplerOptions sampling;  // choice i samples with seed + i
  std::vector<std::pair<int, float>> logit_bias;
  EndOfText end_of_text = EndOfText::kStops;
  std::vector<std::string> stops;
  bool logprobs = false;
  int top_logprobs = 0;
  // Each choice's final state comes back with its end: for a chat the state after the reply as
  // the next turn renders it, otherwise after the prompt and every generated token.
  bool save_state = false;
  // Chat only: the rendered prompt and the template; the server then caches the state after the
  // reply as the next request will render it, so that the next turn feeds only its new message.
  std::optional<std::string> chat_prompt_text;
  const ChatTemplate* chat = nullptr;
  Clock::time_point deadline = Clock::time_point::max();
  // Structured output: every choice samples only what keeps its text a prefix of the grammar,
  // ends (stop) when the grammar is complete, and the chat turn stops do not apply.
  std::shared_ptr<const CompiledGrammar> grammar;
};

struct TokenLogprob {
  int token = 0;
  float logprob = 0.0f;
  int64_t text_offset = 0;                  // bytes of the choice's text before this token
  std::vector<std::pair<int, float>> top;  // the most probable tokens and their log-probabilities
};

// Text of choice `index` released since its last delta (never half a UTF-8 character, never part
// of a stop string), and the tokens whose text starts in it.
struct ChoiceDelta {
  int index = 0;
  std::string text;
  std::vector<TokenLogprob> logprobs;
};

struct ChoiceEnd {
  int index = 0;
  FinishReason reason = FinishReason::kStop;
  SnapshotPtr final_state;  // with save_state
};

struct Usage {
  int64_t prompt_tokens = 0;
  int64_t completion_tokens = 0;
  int64_t cached_tokens = 0;
};

// The last event of every job: its totals, or the error that ended it.
struct JobEnd {
  Usage usage;
  std::optional<ApiError> error;
};

using JobEvent = std::variant<ChoiceDelta, ChoiceEnd, JobEnd>;

class Job {
 public:
  explicit Job(JobSpec spec) : spec_(std::move(spec)), created_(Clock::now()) {}

  const JobSpec& spec() const { return spec_; }
  Clock::time_point created() const { return created_; }

  // Engine side.
  void Push(JobEvent event);
  // Reader side: waits up to `timeout` for events and takes them all (none on timeout).
  std::vector<JobEvent> Take(std::chrono::milliseconds timeout);
  // The reader has gone (a client that disconnected): the engine drops the job at its next step.
  void Cancel() { cancelled_.store(true); }
  bool cancelled() const { return cancelled_.load(); }

 private:
  const JobSpec spec_;
  const Clock::time_point created_;
  std::atomic<bool> cancelled_{false};
  std::mutex mu_;
  std::condition_variable ready_;
  std::deque<JobEvent> events_;
};

}  // namespace anser::serve
