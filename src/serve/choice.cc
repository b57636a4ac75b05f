#include "serve/choice.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

namespace anser::serve {
namespace {

constexpr float kMinusInf = -std::numeric_limits<float>::infinity();

// log Σ exp(logits), over the finite ones.
double LogSumExp(const std::vector<float>& logits) {
  const float max = *std::max_element(logits.begin(), logits.end());
  if (max == kMinusInf) return kMinusInf;
  double sum = 0.0;
  for (float x : logits) sum += std::exp(static_cast<double>(x) - max);
  return max + std::log(sum);
}

}  // namespace

ChoiceRun::ChoiceRun(const JobSpec& spec, int index, const Snapshot& start, const Tokenizer* tokenizer)
    : spec_(spec),
      index_(index),
      tokenizer_(tokenizer),
      state_(start.state),
      logits_(start.logits),
      sampler_(static_cast<int>(start.logits.size()),
               [&] {
                 SamplerOptions o = spec.sampling;
                 o.seed += static_cast<uint64_t>(index);
                 return o;
               }()),
      stream_(spec.stops) {
  if (spec.grammar != nullptr) matcher_.emplace(spec.grammar);
  if (spec.max_tokens == 0) reason_ = FinishReason::kLength;
}

TokenLogprob ChoiceRun::Logprob(int token) const {
  const double lse = LogSumExp(logits_);
  const auto lp = [&](int t) { return static_cast<float>(logits_[static_cast<size_t>(t)] - lse); };
  TokenLogprob entry;
  entry.token = token;
  entry.logprob = lp(token);
  entry.text_offset = static_cast<int64_t>(sampled_text_.size());
  const int k = std::min<int>(spec_.top_logprobs, static_cast<int>(logits_.size()));
  if (k > 0) {
    std::vector<int> order(logits_.size());
    std::iota(order.begin(), order.end(), 0);
    std::partial_sort(order.begin(), order.begin() + k, order.end(), [&](int a, int b) {
      return logits_[static_cast<size_t>(a)] > logits_[static_cast<size_t>(b)] ||
             (logits_[static_cast<size_t>(a)] == logits_[static_cast<size_t>(b)] && a < b);
    });
    for (int i = 0; i < k; ++i) entry.top.emplace_back(order[static_cast<size_t>(i)], lp(order[static_cast<size_t>(i)]));
  }
  return entry;
}

Result<ChoiceRun::Sampled> ChoiceRun::Sample() {
  Sampled out;
  out.delta.index = index_;
  if (!AllFinite(logits_)) {
    non_finite_logits_ = true;
    return Status::Error("the model produced a non-finite logit (NaN or infinity): the weights or the state are broken");
  }
  logits_current_ = false;
  for (const auto& [token, bias] : spec_.logit_bias) logits_[static_cast<size_t>(token)] += bias;
  int token = 0;
  if (matcher_) {
    // The grammar decides about token 0: allowed exactly where the text can end. The masked
    // logits stay behind, so log-probabilities are those of the constrained distribution.
    token = SampleWithGrammar(sampler_, *matcher_, &mask_, logits_);
    if (token < 0) return Status::Error("the grammar allows no token the model gives a finite logit");
  } else {
    if (spec_.end_of_text == EndOfText::kBanned) logits_[0] = kMinusInf;
    token = sampler_.Sample(logits_);  // leaves the penalised logits behind
  }
  if (token == 0 && (matcher_ || spec_.end_of_text == EndOfText::kStops)) {
    Finish(FinishReason::kStop, out.delta);
    return out;
  }
  if (spec_.logprobs) pending_logprobs_.push_back(Logprob(token));
  sampler_.Accept(token);
  std::string bytes;
  if (tokenizer_ != nullptr) {
    bytes = tokenizer_->TokenBytes(token);
  } else {
    if (!sampled_.empty()) bytes = ",";
    bytes += std::to_string(token);
  }
  sampled_.push_back(token);
  sampled_text_ += bytes;
  out.delta.text = stream_.Push(bytes);
  text_ += out.delta.text;
  if (stream_.stopped() || (matcher_ && matcher_->IsComplete())) {
    Finish(FinishReason::kStop, out.delta);
  } else if (generated() >= spec_.max_tokens) {
    Finish(FinishReason::kLength, out.delta);
  } else {
    ReleaseLogprobs(out.delta.logprobs);
  }
  // A completion's final state has seen every generated token; a chat's is rebuilt from the
  // reply as the next turn renders it (see Engine), so its last token need not be fed.
  const bool feed_last = spec_.save_state && !spec_.chat_prompt_text;
  if (!finished() || feed_last) out.feed = token;
  return out;
}

void ChoiceRun::Finish(FinishReason reason, ChoiceDelta& delta) {
  reason_ = reason;
  if (!stream_.stopped()) {
    const std::string rest = stream_.Flush();
    delta.text += rest;
    text_ += rest;
  }
  ReleaseLogprobs(delta.logprobs);
  pending_logprobs_.clear();  // what is left lies in a stop string, which is not part of the text
}

void ChoiceRun::ReleaseLogprobs(std::vector<TokenLogprob>& out) {
  const auto released = static_cast<int64_t>(text_.size());
  size_t i = 0;
  for (; i < pending_logprobs_.size() && pending_logprobs_[i].text_offset < released; ++i) {
    out.push_back(std::move(pending_logprobs_[i]));
  }
  pending_logprobs_.erase(pending_logprobs_.begin(), pending_logprobs_.begin() + static_cast<std::ptrdiff_t>(i));
}

void ChoiceRun::AfterFeed() {
  logits_current_ = true;
  if (spec_.chat == nullptr || !sampled_text_.ends_with(spec_.chat->separator)) return;
  boundary_ = Snapshot{state_, logits_, 0};
  boundary_tokens_ = generated();
}

}  // namespace anser::serve
