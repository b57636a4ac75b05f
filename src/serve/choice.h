// One choice of a job, as it decodes: its state and logits, its own sampler (seeded per choice),
// the text released so far, and the log-probabilities of its tokens. The engine feeds the tokens;
// this class decides what is sampled, what text may be sent, and when the choice ends.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "anser/grammar.h"
#include "anser/sampler.h"
#include "anser/tokenizer.h"
#include "serve/job.h"
#include "serve/snapshot.h"

namespace anser::serve {

class ChoiceRun {
 public:
  // Starts after the prompt: `start` holds the state and the logits of its last position. With
  // max_tokens 0 the choice is finished (by length) from the start.
  // `tokenizer` may be null (token-id models: the text is the ids, comma-separated).
  ChoiceRun(const JobSpec& spec, int index, const Snapshot& start, const Tokenizer* tokenizer);

  int index() const { return index_; }
  State& state() { return state_; }
  std::vector<float>& logits() { return logits_; }
  // False after Sample until AfterFeed: sampling leaves the penalised logits behind.
  bool logits_current() const { return logits_current_; }
  bool finished() const { return reason_.has_value(); }
  FinishReason reason() const { return *reason_; }
  int64_t generated() const { return static_cast<int64_t>(sampled_.size()); }
  const std::vector<int>& sampled() const { return sampled_; }
  const std::string& text() const { return text_; }  // released so far: the choice's content

  struct Sampled {
    ChoiceDelta delta;         // empty text and no logprobs: nothing to send
    std::optional<int> feed;   // the token the state must take next
  };
  // Samples the next token from logits() (bias, the end-of-text rule and penalties applied).
  // Returns an error when the logits hold a NaN or infinity (then non_finite_logits()), or when
  // the grammar allows no token.
  Result<Sampled> Sample();
  bool non_finite_logits() const { return non_finite_logits_; }
  // Called after the engine fed the token Sample returned and wrote the next logits.
  void AfterFeed();

  // Chat: the state right after the last sampled token that ended the text with the separator,
  // with the number of sampled tokens it has seen; null if the text never did.
  const Snapshot* boundary() const { return boundary_ ? &*boundary_ : nullptr; }
  int64_t boundary_tokens() const { return boundary_tokens_; }

 private:
  void Finish(FinishReason reason, ChoiceDelta& delta);
  // Moves the pending log-probabilities whose text starts before `released_` into `out`.
  void ReleaseLogprobs(std::vector<TokenLogprob>& out);
  TokenLogprob Logprob(int token) const;

  const JobSpec& spec_;
  const int index_;
  const Tokenizer* tokenizer_;
  State state_;
  std::vector<float> logits_;
  Sampler sampler_;
  std::optional<GrammarMatcher> matcher_;  // with a grammar
  TokenMask mask_;
  TextStream stream_;
  std::vector<int> sampled_;
  std::string sampled_text_;  // every sampled token's bytes (the text is a prefix of it)
  std::string text_;
  std::vector<TokenLogprob> pending_logprobs_;
  std::optional<FinishReason> reason_;
  bool logits_current_ = true;
  bool non_finite_logits_ = false;
  std::optional<Snapshot> boundary_;
  int64_t boundary_tokens_ = 0;
};

}  // namespace anser::serve
