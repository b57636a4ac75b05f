// The engine: one thread that runs every job on the model, with continuous batching.
//
// Each step it admits queued jobs into free slots (a job takes one slot per choice), feeds one
// chunk of a waiting prompt, samples every decoding choice and advances them all with one
// Session::StepBatch (one pass over the weights for all of them). Prompt chunks are sized so that
// feeding them costs about one decode step while other choices decode, so a long prompt does not
// freeze the streams already running. The products are batch-invariant (see CpuKernels), so a
// choice's logits, and with a seed its tokens, do not depend on what else runs.
//
// The prefix cache keeps the state after every prompt and, after a chat reply, the state after
// the reply as the next turn will render it (encoded from the reply's text, not the sampled
// ids): a request whose tokens extend a cached sequence feeds only the rest.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>

#include "anser/model.h"
#include "anser/tokenizer.h"
#include "serve/job.h"
#include "serve/prefix_cache.h"

namespace anser::serve {

struct EngineOptions {
  int parallel = 8;                     // choices decoding at once, at most
  int queue = 64;                       // jobs waiting for slots, at most
  int threads = 0;                      // kernel threads (0 = all cores)
  int64_t cache_bytes = int64_t{512} << 20;  // the prefix cache's budget; 0 turns it off
  int max_prefill_chunk = 256;          // prompt tokens fed per step, at most
};

struct EngineStats {
  int64_t active_jobs = 0;
  int64_t active_sequences = 0;
  int64_t queued_jobs = 0;
  double decode_tokens_per_second = 0.0;  // over the recent decode steps
  int64_t prompt_tokens_total = 0;        // tokens of admitted prompts (cached ones included)
  int64_t generated_tokens_total = 0;
  int64_t cache_bytes = 0;
  uint64_t cache_hits = 0, cache_misses = 0, cache_evictions = 0;
};

class Engine {
 public:
  // `tokenizer` may be null (token-id models); it must outlive the engine.
  Engine(std::shared_ptr<const Model> model, const Tokenizer* tokenizer, EngineOptions options);
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  enum class Admission { kQueued, kQueueFull, kShuttingDown };
  // Queues `job` (its spec must be valid for the model: ids in range, n ≤ parallel, a non-empty
  // prompt unless its origin snapshot has logits). Its events then arrive through the job.
  Admission Submit(std::shared_ptr<Job> job);

  // Ends every queued and running job with `error`, refuses new ones, and stops the thread.
  void Shutdown(const ApiError& error);

  EngineStats stats() const;
  const ModelConfig& config() const { return model_->config(); }

 private:
  struct Prefill;
  struct Running;

  void Run();
  void Admit(std::unique_lock<std::mutex>& lock);
  void DropCancelledAndExpired();
  void PrefillStep();
  void DecodeStep();
  void StartDecoding(Running& r);
  void EndChoice(Running& r, int index);
  void CompleteChoice(Running& r, int index, SnapshotPtr final_state);
  void FinishJobs();
  int64_t PrefillBudget() const;

  std::shared_ptr<const Model> model_;
  const Tokenizer* tokenizer_;
  const EngineOptions options_;
  Session session_;
  PrefixCache cache_;

  std::mutex mu_;  // guards queue_ and stopping_
  std::condition_variable wake_;
  std::deque<std::shared_ptr<Job>> queue_;
  bool stopping_ = false;
  ApiError stop_error_;

  // Engine thread only.
  std::deque<std::unique_ptr<Running>> running_;
  std::deque<std::unique_ptr<Prefill>> background_;  // canonical replies fed only for the cache
  int free_slots_;
  std::vector<float> batch_logits_;     // (sequences, n_vocab) of the last step, reused
  double decode_step_seconds_ = 0.0;    // moving averages, for sizing prompt chunks
  double prefill_token_seconds_ = 0.0;

  std::atomic<int64_t> active_jobs_{0}, active_sequences_{0}, queued_jobs_{0};
  std::atomic<int64_t> prompt_tokens_total_{0}, generated_tokens_total_{0};
  std::atomic<double> decode_rate_{0.0};
  std::atomic<int64_t> last_decode_ns_{0};

  std::thread thread_;
};

}  // namespace anser::serve
