#include "train/corpus.h"

#include <algorithm>
#include <string>

namespace anser {

Result<Corpus> MakeCorpus(std::string_view text, const Tokenizer& tokenizer) {
  std::vector<int> tokens = tokenizer.Encode(text);
  const size_t n_train = tokens.size() * 9 / 10;
  if (n_train < 2 || tokens.size() - n_train < 2) {
    return Status::Error("[train] the corpus has " + std::to_string(tokens.size()) +
                         " tokens; it needs at least 20 (90% train, 10% validation, two each)");
  }
  Corpus c;
  c.validation.assign(tokens.begin() + static_cast<std::ptrdiff_t>(n_train), tokens.end());
  tokens.resize(n_train);
  c.train = std::move(tokens);
  return c;
}

Batch SampleBatch(const std::vector<int>& tokens, int64_t batch, int64_t n_tokens,
                  SplitMix64& rng) {
  Batch b;
  b.batch = batch;
  b.n_tokens = n_tokens;
  b.inputs.reserve(static_cast<size_t>(batch * n_tokens));
  b.targets.reserve(b.inputs.capacity());
  const uint64_t starts = tokens.size() - static_cast<uint64_t>(n_tokens);  // windows of T+1
  for (int64_t i = 0; i < batch; ++i) {
    const auto s = static_cast<ptrdiff_t>(rng.Below(starts));
    b.inputs.insert(b.inputs.end(), tokens.begin() + s, tokens.begin() + s + n_tokens);
    b.targets.insert(b.targets.end(), tokens.begin() + s + 1, tokens.begin() + s + 1 + n_tokens);
  }
  return b;
}

std::vector<Batch> ValidationBatches(const std::vector<int>& tokens, int64_t batch,
                                     int64_t n_tokens, int64_t max_tokens) {
  int64_t n = static_cast<int64_t>(tokens.size());
  if (max_tokens > 0) n = std::min(n, max_tokens);
  std::vector<Batch> out;
  Batch current;
  current.n_tokens = n_tokens;
  auto flush = [&out](Batch& b) {
    if (b.batch > 0) out.push_back(std::move(b));
    b = Batch();
  };
  int64_t s = 0;
  for (; s + n_tokens < n; s += n_tokens) {
    current.n_tokens = n_tokens;
    current.inputs.insert(current.inputs.end(), tokens.begin() + s, tokens.begin() + s + n_tokens);
    current.targets.insert(current.targets.end(), tokens.begin() + s + 1,
                           tokens.begin() + s + 1 + n_tokens);
    if (++current.batch == batch) flush(current);
  }
  flush(current);
  if (n - s >= 2) {  // the tail: a shorter window of n − s tokens
    Batch tail;
    tail.batch = 1;
    tail.n_tokens = n - s - 1;
    tail.inputs.assign(tokens.begin() + s, tokens.begin() + n - 1);
    tail.targets.assign(tokens.begin() + s + 1, tokens.begin() + n);
    out.push_back(std::move(tail));
  }
  return out;
}

}  // namespace anser
