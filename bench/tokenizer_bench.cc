// Encode and decode throughput of the World tokenizer over English text (tinyshakespeare).
// Finds the vocabulary and the text under $ANSER_SHARED_DIR, else ../shared.
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "anser/tokenizer.h"

namespace {

std::string SharedDir() {
  const char* env = std::getenv("ANSER_SHARED_DIR");
  return env != nullptr && env[0] != '\0' ? env : "../shared";
}

// Loaded once for all benchmarks; `error` is set when something is missing.
struct Inputs {
  std::unique_ptr<anser::Tokenizer> tokenizer;
  std::string text;
  std::string error;
};

const Inputs& GetInputs() {
  static const Inputs* inputs = [] {
    auto* loaded = new Inputs;
    const std::string shared = SharedDir();
    auto tokenizer = anser::LoadWorldTokenizer(shared + "/vocab/rwkv_vocab_v20230424.txt");
    if (!tokenizer.ok()) {
      loaded->error = tokenizer.message() + " (set ANSER_SHARED_DIR)";
      return loaded;
    }
    loaded->tokenizer = std::move(tokenizer).value();
    std::ifstream file(shared + "/data/tinyshakespeare.txt", std::ios::binary);
    if (!file) {
      loaded->error = "cannot open " + shared + "/data/tinyshakespeare.txt (set ANSER_SHARED_DIR)";
      return loaded;
    }
    std::ostringstream content;
    content << file.rdbuf();
    loaded->text = content.str();
    return loaded;
  }();
  return *inputs;
}

void BM_WorldEncode(benchmark::State& state) {
  const Inputs& inputs = GetInputs();
  if (!inputs.error.empty()) {
    state.SkipWithError(inputs.error.c_str());
    return;
  }
  size_t n_tokens = 0;
  for (auto _ : state) {
    const std::vector<int> ids = inputs.tokenizer->Encode(inputs.text);
    n_tokens = ids.size();
    benchmark::DoNotOptimize(ids.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * inputs.text.size()));
  state.counters["bytes_per_token"] =
      static_cast<double>(inputs.text.size()) / static_cast<double>(n_tokens);
}
BENCHMARK(BM_WorldEncode)->Unit(benchmark::kMillisecond);

void BM_WorldDecode(benchmark::State& state) {
  const Inputs& inputs = GetInputs();
  if (!inputs.error.empty()) {
    state.SkipWithError(inputs.error.c_str());
    return;
  }
  const std::vector<int> ids = inputs.tokenizer->Encode(inputs.text);
  for (auto _ : state) {
    auto text = inputs.tokenizer->Decode(ids);
    benchmark::DoNotOptimize(text.value().data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * inputs.text.size()));
}
BENCHMARK(BM_WorldDecode)->Unit(benchmark::kMillisecond);

void BM_WorldLoad(benchmark::State& state) {
  const std::string path = SharedDir() + "/vocab/rwkv_vocab_v20230424.txt";
  for (auto _ : state) {
    auto tokenizer = anser::LoadWorldTokenizer(path);
    if (!tokenizer.ok()) {
      state.SkipWithError(tokenizer.message().c_str());
      return;
    }
    benchmark::DoNotOptimize(tokenizer.value().get());
  }
}
BENCHMARK(BM_WorldLoad)->Unit(benchmark::kMillisecond);

}  // namespace
