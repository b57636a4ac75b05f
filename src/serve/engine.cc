#include "serve/engine.h"

#include <algorithm>
#include <optional>

#include "core/thread_pool.h"
#include "serve/choice.h"

namespace anser::serve {
namespace {

constexpr int64_t kMinPrefillChunk = 16;
constexpr double kAverageWeight = 0.2;  // of the newest sample in the moving averages
constexpr auto kIdleWait = std::chrono::milliseconds(50);

double Average(double average, double sample) {
  return average == 0.0 ? sample : average + kAverageWeight * (sample - average);
}

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

}  // namespace

// Tokens being fed into a state in chunks, then handed on: a job's prompt (`choice` = -1), the
// canonical tokens of a chat reply (`choice` = its index), or such a reply fed for the cache only
// (no owner).
struct Engine::Prefill {
  State state;
  std::vector<int> tokens;
  size_t fed = 0;
  std::vector<float> logits;
  int64_t tokens_before = 0;  // fed since the origin's start before these
  Running* owner = nullptr;
  int choice = -1;
  OriginKey origin = kZeroOrigin;
  std::vector<int> cache_key;  // empty: do not cache the result
};

struct Engine::Running {
  explicit Running(std::shared_ptr<Job> j) : job(std::move(j)), spec(job->spec()) {}
  std::shared_ptr<Job> job;
  const JobSpec& spec;
  std::unique_ptr<Prefill> prompt;  // while the prompt is fed
  SnapshotPtr prompt_end;
  std::vector<std::unique_ptr<ChoiceRun>> choices;
  std::vector<std::unique_ptr<Prefill>> canonical;  // per choice, for save_state
  std::vector<bool> ended;
  Usage usage;
  bool done = false;  // its JobEnd was sent, or its reader has gone
};

Engine::Engine(std::shared_ptr<const Model> model, const Tokenizer* tokenizer, EngineOptions options)
    : model_(std::move(model)),
      tokenizer_(tokenizer),
      options_(options),
      session_(model_, SessionOptions{options.threads}),
      cache_(options.cache_bytes),
      free_slots_(options.parallel),
      thread_([this] { Run(); }) {}

Engine::~Engine() { Shutdown(ApiError::Server("the server is shutting down")); }

Engine::Admission Engine::Submit(std::shared_ptr<Job> job) {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return Admission::kShuttingDown;
    if (static_cast<int>(queue_.size()) >= options_.queue) return Admission::kQueueFull;
    queue_.push_back(std::move(job));
    queued_jobs_.store(static_cast<int64_t>(queue_.size()));
  }
  wake_.notify_one();
  return Admission::kQueued;
}

void Engine::Shutdown(const ApiError& error) {
  {
    std::lock_guard lock(mu_);
    if (!stopping_) {
      stopping_ = true;
      stop_error_ = error;
    }
  }
  wake_.notify_one();
  if (thread_.joinable()) thread_.join();
}

EngineStats Engine::stats() const {
  EngineStats s;
  s.active_jobs = active_jobs_.load();
  s.active_sequences = active_sequences_.load();
  s.queued_jobs = queued_jobs_.load();
  const int64_t since_ns = Clock::now().time_since_epoch().count() - last_decode_ns_.load();
  s.decode_tokens_per_second = since_ns < int64_t{2'000'000'000} ? decode_rate_.load() : 0.0;
  s.prompt_tokens_total = prompt_tokens_total_.load();
  s.generated_tokens_total = generated_tokens_total_.load();
  s.cache_bytes = cache_.bytes();
  s.cache_hits = cache_.hits();
  s.cache_misses = cache_.misses();
  s.cache_evictions = cache_.evictions();
  return s;
}

void Engine::Run() {
  while (true) {
    {
      std::unique_lock lock(mu_);
      if (running_.empty() && background_.empty()) {
        wake_.wait_for(lock, kIdleWait, [this] { return stopping_ || !queue_.empty(); });
      }
      if (stopping_) {
        for (auto& r : running_) {
          if (!r->done) r->job->Push(JobEnd{r->usage, stop_error_});
        }
        for (auto& job : queue_) job->Push(JobEnd{{}, stop_error_});
        queue_.clear();
        queued_jobs_.store(0);
        return;
      }
      Admit(lock);
    }
    DropCancelledAndExpired();
    PrefillStep();
    DecodeStep();
    FinishJobs();
  }
}

void Engine::Admit(std::unique_lock<std::mutex>& lock) {
  // Jobs whose reader has gone or whose time is up leave the queue first, so they never hold a
  // place that a live request could take.
  const Clock::time_point now = Clock::now();
  std::erase_if(queue_, [&](const std::shared_ptr<Job>& job) {
    if (job->cancelled()) return true;
    if (now < job->spec().deadline) return false;
    job->Push(JobEnd{{}, ApiError{408, "timeout_error", "the request timed out waiting for a free slot", "", "timeout"}});
    return true;
  });
  while (!queue_.empty() && queue_.front()->spec().n <= free_slots_) {
    auto r = std::make_unique<Running>(std::move(queue_.front()));
    queue_.pop_front();
    free_slots_ -= r->spec.n;
    running_.push_back(std::move(r));
    Running& job = *running_.back();
    lock.unlock();
    const JobSpec& spec = job.spec;
    job.usage.prompt_tokens = static_cast<int64_t>(spec.prompt.size());
    prompt_tokens_total_.fetch_add(job.usage.prompt_tokens);
    const int64_t origin_tokens = spec.origin_snapshot ? spec.origin_snapshot->tokens : 0;
    const PrefixCache::Hit hit = options_.cache_bytes > 0 && !spec.prompt.empty()
                                     ? cache_.Lookup(spec.origin, spec.prompt)
                                     : PrefixCache::Hit{};
    job.usage.cached_tokens = hit.length;
    if (spec.prompt.empty()) {
      // Nothing to feed: the origin's own logits start the reply (the front end checks they exist).
      job.prompt_end = spec.origin_snapshot;
      StartDecoding(job);
    } else if (hit.length == static_cast<int64_t>(spec.prompt.size())) {
      job.prompt_end = hit.snapshot;
      StartDecoding(job);
    } else {
      job.prompt = std::make_unique<Prefill>();
      Prefill& p = *job.prompt;
      if (hit.snapshot) {
        p.state = hit.snapshot->state;
      } else if (spec.origin_snapshot) {
        p.state = spec.origin_snapshot->state;
      } else {
        p.state = State(model_->config());
      }
      p.tokens.assign(spec.prompt.begin() + hit.length, spec.prompt.end());
      p.tokens_before = origin_tokens + hit.length;
      p.owner = &job;
      p.origin = spec.origin;
      if (options_.cache_bytes > 0) p.cache_key = spec.prompt;
    }
    lock.lock();
  }
  queued_jobs_.store(static_cast<int64_t>(queue_.size()));
  active_jobs_.store(static_cast<int64_t>(running_.size()));
  active_sequences_.store(options_.parallel - free_slots_);
}

void Engine::DropCancelledAndExpired() {
  const Clock::time_point now = Clock::now();
  for (auto& r : running_) {
    if (r->done) continue;
    if (r->job->cancelled()) {
      r->done = true;
    } else if (now >= r->spec.deadline) {
      r->job->Push(JobEnd{r->usage, ApiError{408, "timeout_error", "the request ran longer than the server's --timeout-s",
                                             "", "timeout"}});
      r->done = true;
    }
  }
}

int64_t Engine::PrefillBudget() const {
  const bool decoding = std::any_of(running_.begin(), running_.end(), [](const auto& r) {
    return !r->done && std::any_of(r->choices.begin(), r->choices.end(), [](const auto& c) { return !c->finished(); });
  });
  if (!decoding) return options_.max_prefill_chunk;
  if (prefill_token_seconds_ == 0.0) return kMinPrefillChunk;
  const auto tokens = static_cast<int64_t>(decode_step_seconds_ / prefill_token_seconds_);
  return std::clamp<int64_t>(tokens, kMinPrefillChunk, options_.max_prefill_chunk);
}

void Engine::PrefillStep() {
  // Prompts first (a waiting client), then the replies a save_state response waits for, then the
  // replies fed for the cache alone.
  Prefill* p = nullptr;
  for (auto& r : running_) {
    if (!r->done && r->prompt) {
      p = r->prompt.get();
      break;
    }
  }
  for (auto it = running_.begin(); p == nullptr && it != running_.end(); ++it) {
    if ((*it)->done) continue;
    for (auto& c : (*it)->canonical) {
      if (c) {
        p = c.get();
        break;
      }
    }
  }
  if (p == nullptr && !background_.empty()) p = background_.front().get();
  if (p == nullptr) return;

  const int64_t n = std::min<int64_t>(PrefillBudget(), static_cast<int64_t>(p->tokens.size() - p->fed));
  const Clock::time_point start = Clock::now();
  session_.Prefill(p->state, std::span<const int>(p->tokens).subspan(p->fed, static_cast<size_t>(n)),
                   /*all_positions=*/false, &p->logits);
  prefill_token_seconds_ = Average(prefill_token_seconds_, Seconds(Clock::now() - start) / static_cast<double>(n));
  p->fed += static_cast<size_t>(n);
  if (p->fed < p->tokens.size()) return;

  auto snapshot = std::make_shared<Snapshot>(
      Snapshot{std::move(p->state), std::move(p->logits), p->tokens_before + static_cast<int64_t>(p->tokens.size())});
  if (!p->cache_key.empty()) cache_.Insert(p->origin, p->cache_key, snapshot);
  Running* owner = p->owner;
  const int choice = p->choice;
  if (owner == nullptr) {
    background_.pop_front();
  } else if (choice < 0) {
    owner->prompt_end = std::move(snapshot);
    owner->prompt.reset();
    StartDecoding(*owner);
  } else {
    owner->canonical[static_cast<size_t>(choice)].reset();
    CompleteChoice(*owner, choice, std::move(snapshot));
  }
}

void Engine::StartDecoding(Running& r) {
  const int n = r.spec.n;
  r.ended.assign(static_cast<size_t>(n), false);
  r.canonical.resize(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) r.choices.push_back(std::make_unique<ChoiceRun>(r.spec, i, *r.prompt_end, tokenizer_));
  for (int i = 0; i < n; ++i) {
    if (r.choices[static_cast<size_t>(i)]->finished()) EndChoice(r, i);
  }
}

void Engine::DecodeStep() {
  std::vector<ChoiceRun*> ready;
  std::vector<Running*> owners;
  for (auto& r : running_) {
    if (r->done) continue;
    for (auto& c : r->choices) {
      if (!c->finished()) {
        ready.push_back(c.get());
        owners.push_back(r.get());
      }
    }
  }
  if (ready.empty()) return;
  const Clock::time_point start = Clock::now();
  std::vector<std::optional<Result<ChoiceRun::Sampled>>> sampled(ready.size());
  KernelPool().ParallelFor(static_cast<int64_t>(ready.size()), 1, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) sampled[static_cast<size_t>(i)].emplace(ready[static_cast<size_t>(i)]->Sample());
  });

  std::vector<State*> states;
  std::vector<int> tokens;
  std::vector<ChoiceRun*> fed;
  std::vector<std::pair<Running*, int>> ended;
  for (size_t i = 0; i < ready.size(); ++i) {
    Running& r = *owners[i];
    if (r.done) continue;
    Result<ChoiceRun::Sampled>& result = *sampled[i];
    if (!result.ok()) {
      std::string message = result.message();
      // Non-finite logits: name where they came from, by a checked re-run of the token that gave
      // them (the last sampled one, or the prompt's last).
      const std::vector<int>& fed_tokens = ready[i]->sampled();
      const std::vector<int>& prompt = r.spec.prompt;
      if (ready[i]->non_finite_logits() && (!fed_tokens.empty() || !prompt.empty())) {
        const int token = fed_tokens.empty() ? prompt.back() : fed_tokens.back();
        message += "; " + DescribeNonFinite(session_, ready[i]->state(), token);
      }
      r.job->Push(JobEnd{r.usage, ApiError::Server(message)});
      r.done = true;
      continue;
    }
    ChoiceRun::Sampled& s = result.value();
    if (!s.delta.text.empty() || !s.delta.logprobs.empty()) r.job->Push(std::move(s.delta));
    if (s.feed) {
      states.push_back(&ready[i]->state());
      tokens.push_back(*s.feed);
      fed.push_back(ready[i]);
    }
    if (ready[i]->finished()) ended.emplace_back(&r, ready[i]->index());
  }
  generated_tokens_total_.fetch_add(static_cast<int64_t>(tokens.size()));
  if (!states.empty()) {
    const Clock::time_point step_start = Clock::now();
    session_.StepBatch(states, tokens, &batch_logits_);
    decode_step_seconds_ = Average(decode_step_seconds_, Seconds(Clock::now() - step_start));
    const size_t V = static_cast<size_t>(model_->config().n_vocab);
    for (size_t b = 0; b < fed.size(); ++b) {
      std::copy_n(batch_logits_.begin() + static_cast<std::ptrdiff_t>(b * V), V, fed[b]->logits().begin());
      fed[b]->AfterFeed();
    }
  }
  for (const auto& [r, index] : ended) {
    if (!r->done) EndChoice(*r, index);
  }
  const double seconds = Seconds(Clock::now() - start);
  if (seconds > 0) decode_rate_.store(Average(decode_rate_.load(), static_cast<double>(ready.size()) / seconds));
  last_decode_ns_.store(Clock::now().time_since_epoch().count());
}

void Engine::EndChoice(Running& r, int index) {
  ChoiceRun& c = *r.choices[static_cast<size_t>(index)];
  r.usage.completion_tokens += c.generated();
  const JobSpec& spec = r.spec;
  const int64_t origin_tokens = r.prompt_end->tokens;
  const bool cache_reply = options_.cache_bytes > 0 && spec.n == 1;
  if (!spec.chat_prompt_text || tokenizer_ == nullptr || !(spec.save_state || cache_reply)) {
    SnapshotPtr final_state;
    if (spec.save_state) {
      final_state = std::make_shared<Snapshot>(
          Snapshot{c.state(), c.logits_current() ? c.logits() : std::vector<float>{}, origin_tokens + c.generated()});
    }
    CompleteChoice(r, index, std::move(final_state));
    return;
  }
  // The state after the reply as the next request renders it. When the prompt's own tokens
  // begin that rendering, the remainder is what to feed, and the result is cached under the
  // whole; otherwise only the reply's tokens are fed (a valid final state, not findable later).
  const std::string reply_end = RenderReplyEnd(*spec.chat, c.text());
  std::vector<int> key = tokenizer_->Encode(*spec.chat_prompt_text + reply_end);
  std::vector<int> rest;
  const bool findable =
      key.size() >= spec.prompt.size() && std::equal(spec.prompt.begin(), spec.prompt.end(), key.begin());
  if (findable) {
    rest.assign(key.begin() + static_cast<std::ptrdiff_t>(spec.prompt.size()), key.end());
  } else {
    rest = tokenizer_->Encode(reply_end);
    key.clear();
  }
  if (options_.cache_bytes == 0) key.clear();
  const Snapshot* boundary = c.boundary();
  const auto sampled_rest = static_cast<int64_t>(rest.size());
  if (boundary != nullptr && c.boundary_tokens() == sampled_rest && c.generated() >= sampled_rest &&
      std::equal(rest.begin(), rest.end(), c.sampled().begin())) {
    // The sampled tokens were the canonical ones: the snapshot taken there is the state.
    auto snapshot = std::make_shared<Snapshot>(*boundary);
    snapshot->tokens = origin_tokens + sampled_rest;
    if (!key.empty()) cache_.Insert(spec.origin, key, snapshot);
    CompleteChoice(r, index, spec.save_state ? std::move(snapshot) : nullptr);
    return;
  }
  auto p = std::make_unique<Prefill>();
  p->state = r.prompt_end->state;
  p->tokens = std::move(rest);
  p->tokens_before = origin_tokens;
  p->origin = spec.origin;
  p->cache_key = std::move(key);
  if (spec.save_state) {
    p->owner = &r;
    p->choice = index;
    r.canonical[static_cast<size_t>(index)] = std::move(p);
  } else {
    if (!p->cache_key.empty()) background_.push_back(std::move(p));
    CompleteChoice(r, index, nullptr);
  }
}

void Engine::CompleteChoice(Running& r, int index, SnapshotPtr final_state) {
  const ChoiceRun& c = *r.choices[static_cast<size_t>(index)];
  r.job->Push(ChoiceEnd{index, c.reason(), std::move(final_state)});
  r.ended[static_cast<size_t>(index)] = true;
  if (std::all_of(r.ended.begin(), r.ended.end(), [](bool e) { return e; })) {
    r.job->Push(JobEnd{r.usage, std::nullopt});
    r.done = true;
  }
}

void Engine::FinishJobs() {
  std::erase_if(running_, [&](const std::unique_ptr<Running>& r) {
    if (!r->done) return false;
    free_slots_ += r->spec.n;
    return true;
  });
  active_jobs_.store(static_cast<int64_t>(running_.size()));
  active_sequences_.store(options_.parallel - free_slots_);
}

}  // namespace anser::serve
