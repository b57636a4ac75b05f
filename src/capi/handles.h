// The C API's opaque handles: each wraps the C++ object it stands for.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "anser/anser.h"
#include "anser/model.h"
#include "anser/sampler.h"
#include "anser/tokenizer.h"

struct anser_model {
  std::shared_ptr<const anser::Model> model;
};

struct anser_state {
  anser::ModelConfig config;  // the shape the state was made for
  anser::State state;
};

struct anser_session {
  explicit anser_session(std::shared_ptr<const anser::Model> model, int threads)
      : session(std::move(model), anser::SessionOptions{threads}) {}
  anser::Session session;
  std::vector<float> logits;         // prefill output before it is copied out
  std::vector<anser::State*> batch;  // the states of a batched step
};

struct anser_tokenizer {
  std::unique_ptr<anser::Tokenizer> tokenizer;
};

struct anser_text_stream {
  anser::TextStream stream;
  std::string text;  // what the last push or flush released
};

struct anser_sampler {
  anser_sampler(int vocab_size, const anser::SamplerOptions& options)
      : n_vocab(vocab_size), sampler(vocab_size, options) {}
  int n_vocab;
  anser::Sampler sampler;
};
