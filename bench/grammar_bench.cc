// Structured output costs over the 65536-token World vocabulary: grammar compilation, the time
// to compute one token mask along real documents (median and p99, caches cold and warm), and
// decoding speed with and without a grammar on random weights of the official 0.1B shape
// (q8_0), measured alternately in the same run. Finds the vocabulary under $ANSER_SHARED_DIR,
// else ../shared. Run: build/release/bench/grammar_bench (from the repository root).
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

#include "anser/grammar.h"
#include "anser/model.h"
#include "anser/sampler.h"
#include "anser/tokenizer.h"

namespace {

// CPU time of this thread: on a shared machine, wall-clock time mostly measures the other
// processes. Every measurement here runs on one thread.
double ThreadSeconds() {
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + 1e-9 * static_cast<double>(t.tv_nsec);
}

std::string SharedDir() {
  const char* env = std::getenv("ANSER_SHARED_DIR");
  return env != nullptr && env[0] != '\0' ? env : "../shared";
}

// The schema and documents in bench/grammar_inputs, which bench/xgrammar_compare.py reads too.
std::string GrammarInput(const std::string& name, std::string* error) {
  const std::string path = std::string(ANSER_GRAMMAR_INPUTS) + "/" + name;
  std::ifstream in(path, std::ios::binary);
  if (!in) *error = "cannot read " + path;
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  while (!text.empty() && text.back() == '\n') text.pop_back();
  return text;
}

struct Inputs {
  std::unique_ptr<anser::Tokenizer> tokenizer;
  std::shared_ptr<const anser::GrammarVocabulary> vocabulary;
  std::string tool_schema;  // a typical tool's parameters
  std::string tool_call;    // arguments that follow it
  std::string any_json;     // a document for the any-JSON grammar
  std::string error;
};

const Inputs& GetInputs() {
  static const Inputs* inputs = [] {
    auto* loaded = new Inputs;
    loaded->tool_schema = GrammarInput("tool.schema.json", &loaded->error);
    loaded->tool_call = GrammarInput("tool_call.json", &loaded->error);
    loaded->any_json = GrammarInput("any.json", &loaded->error);
    if (!loaded->error.empty()) return loaded;
    auto tokenizer = anser::LoadWorldTokenizer(SharedDir() + "/vocab/rwkv_vocab_v20230424.txt");
    if (!tokenizer.ok()) {
      loaded->error = tokenizer.message() + " (set ANSER_SHARED_DIR)";
      return loaded;
    }
    loaded->tokenizer = std::move(tokenizer).value();
    loaded->vocabulary = anser::GrammarVocabulary::FromTokenizer(*loaded->tokenizer, 65536);
    return loaded;
  }();
  return *inputs;
}

double Percentile(std::vector<double> values, double p) {
  std::sort(values.begin(), values.end());
  const size_t k =
      std::min(values.size() - 1, static_cast<size_t>(p * static_cast<double>(values.size())));
  return values[k];
}

// Grammar compilation of a typical tool schema (JSON Schema → GBNF → automaton).
void BM_CompileToolSchema(benchmark::State& state) {
  const Inputs& inputs = GetInputs();
  if (!inputs.error.empty()) {
    state.SkipWithError(inputs.error.c_str());
    return;
  }
  for (auto _ : state) {
    auto grammar = anser::CompiledGrammar::FromJsonSchema(inputs.tool_schema, inputs.vocabulary);
    benchmark::DoNotOptimize(grammar);
  }
}
BENCHMARK(BM_CompileToolSchema)->Unit(benchmark::kMillisecond);

// The mask at every token of a document, as a model writing it would need: the first pass
// fills the caches (cold), the next ones reuse them (warm, what every later request sees).
void MaskAlongDocument(benchmark::State& state, bool schema) {
  const Inputs& inputs = GetInputs();
  if (!inputs.error.empty()) {
    state.SkipWithError(inputs.error.c_str());
    return;
  }
  const auto grammar = schema
                           ? anser::CompiledGrammar::FromJsonSchema(inputs.tool_schema, inputs.vocabulary)
                           : anser::CompiledGrammar::AnyJson(inputs.vocabulary);
  if (!grammar.ok()) {
    state.SkipWithError(grammar.message().c_str());
    return;
  }
  const std::vector<int> tokens = inputs.tokenizer->Encode(schema ? inputs.tool_call : inputs.any_json);
  std::vector<double> cold, warm;
  anser::TokenMask mask;
  for (auto _ : state) {
    for (int pass = 0; pass < 20; ++pass) {
      anser::GrammarMatcher matcher(grammar.value());
      for (const int token : tokens) {
        const double start = ThreadSeconds();
        matcher.FillNextTokenMask(&mask);
        const double us = 1e6 * (ThreadSeconds() - start);
        (pass == 0 ? cold : warm).push_back(us);
        if (!mask.Allowed(token) || !matcher.AcceptToken(token)) {
          state.SkipWithError("the document does not fit its grammar");
          return;
        }
      }
    }
  }
  state.counters["tokens"] = static_cast<double>(tokens.size());
  state.counters["warm_median_us"] = Percentile(warm, 0.5);
  state.counters["warm_p99_us"] = Percentile(warm, 0.99);
  state.counters["cold_median_us"] = Percentile(cold, 0.5);
  state.counters["cold_max_us"] = Percentile(cold, 1.0);
  double cold_total = 0;
  for (const double us : cold) cold_total += us;
  state.counters["cold_total_ms"] = cold_total / 1000;
}
void BM_MaskToolSchema(benchmark::State& state) { MaskAlongDocument(state, true); }
void BM_MaskAnyJson(benchmark::State& state) { MaskAlongDocument(state, false); }
BENCHMARK(BM_MaskToolSchema)->Iterations(1)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_MaskAnyJson)->Iterations(1)->Unit(benchmark::kMillisecond);

// Decoding with and without a grammar on 0.1B q8_0 random weights, alternating, on one thread.
// Temperature 1, top-p 1: the random model spreads its probability, so the grammar keeps it in
// long strings (the usual case for JSON output).
void DecodeSpeed(benchmark::State& state, bool schema) {
  const Inputs& inputs = GetInputs();
  if (!inputs.error.empty()) {
    state.SkipWithError(inputs.error.c_str());
    return;
  }
  static const auto model = [] {
    auto config = anser::OfficialShape("0.1b");
    return anser::Model::Random(*config, "q8_0", 1);
  }();
  if (!model.ok()) {
    state.SkipWithError(model.message().c_str());
    return;
  }
  const auto grammar = schema
                           ? anser::CompiledGrammar::FromJsonSchema(inputs.tool_schema, inputs.vocabulary)
                           : anser::CompiledGrammar::AnyJson(inputs.vocabulary);
  constexpr int kTokens = 64;
  constexpr int kRounds = 4;
  anser::Session session(model.value(), anser::SessionOptions{1});
  anser::SamplerOptions options;
  options.top_p = 1.0f;
  double free_s = 0, constrained_s = 0;
  int free_tokens = 0, constrained_tokens = 0;
  for (auto _ : state) {
    for (int round = 0; round < 2 * kRounds; ++round) {
      const bool constrained = round % 2 == 1;
      anser::State s(model.value()->config());
      std::vector<float> logits;
      session.Prefill(s, inputs.tokenizer->Encode("JSON:"), false, &logits);
      options.seed = static_cast<uint64_t>(round / 2);
      anser::Sampler sampler(65536, options);
      anser::GrammarMatcher matcher(grammar.value());
      anser::TokenMask mask;
      int n = 0;
      const double start = ThreadSeconds();
      for (; n < kTokens; ++n) {
        int token = 0;
        if (constrained) {
          if (matcher.IsComplete()) break;
          token = anser::SampleWithGrammar(sampler, matcher, &mask, logits);
          if (token <= 0) break;
        } else {
          token = sampler.Sample(logits);
        }
        sampler.Accept(token);
        const auto next = session.Step(s, token);
        logits.assign(next.begin(), next.end());
      }
      const double seconds = ThreadSeconds() - start;
      (constrained ? constrained_s : free_s) += seconds;
      (constrained ? constrained_tokens : free_tokens) += n;
    }
  }
  const double free_rate = free_tokens / free_s;
  const double constrained_rate = constrained_tokens / constrained_s;
  state.counters["free_tok_s"] = free_rate;
  state.counters["grammar_tok_s"] = constrained_rate;
  state.counters["ratio"] = constrained_rate / free_rate;
}
void BM_Decode01bQ8ToolSchema(benchmark::State& state) { DecodeSpeed(state, true); }
void BM_Decode01bQ8AnyJson(benchmark::State& state) { DecodeSpeed(state, false); }
BENCHMARK(BM_Decode01bQ8ToolSchema)->Iterations(1)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Decode01bQ8AnyJson)->Iterations(1)->Unit(benchmark::kMillisecond);

}  // namespace
