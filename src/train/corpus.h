// Training data: a corpus's tokens split into train and validation parts, random training
// windows and the fixed validation windows.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "anser/status.h"
#include "anser/tokenizer.h"
#include "train/batch.h"
#include "train/rng.h"

namespace anser {

struct Corpus {
  std::vector<int> train;       // the first ⌊0.9·n⌋ tokens
  std::vector<int> validation;  // the rest
};

// Tokenizes `text` and splits it. Both parts need at least two tokens (one window).
Result<Corpus> MakeCorpus(std::string_view text, const Tokenizer& tokenizer);

// B windows of T+1 consecutive tokens at uniformly random starts (drawn from `rng` in order):
// inputs are a window's first T tokens, targets its last T. The part must hold T+1 tokens.
Batch SampleBatch(const std::vector<int>& tokens, int64_t batch, int64_t n_tokens, SplitMix64& rng);

// The validation windows: consecutive windows of T+1 tokens overlapping by one (each token a
// target once), covering the first `max_tokens` tokens of `tokens` (all when 0), grouped B
// windows a batch. A final partial window is kept as a shorter batch of its own.
std::vector<Batch> ValidationBatches(const std::vector<int>& tokens, int64_t batch,
                                     int64_t n_tokens, int64_t max_tokens);

}  // namespace anser
