// anser generate: prefill a prompt, then sample and stream a completion.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common.h"
#include "flag_checks.h"
#include "grammar_flags.h"
#include "logits_guard.h"

namespace anser::cli {
namespace {

struct GenerateArgs {
  std::string model;
  std::string vocab;
  std::string prompt;
  std::string prompt_file;
  int max_tokens = 200;
  SamplerOptions sampling;
  std::vector<std::string> stops;
  std::string state_in;
  std::string state_out;
  int threads = 0;
  bool no_echo = false;
  GrammarFlags grammar;
};

int RunGenerate(GenerateArgs a, bool seed_given) {
  auto model_path = ModelOrDefault(a.model);
  if (!model_path.ok()) return Fail(model_path.message());
  a.model = *model_path;
  auto model = OpenModel(a.model);
  if (!model.ok()) return Fail(model.message());
  const ModelConfig& config = (*model)->config();
  auto tokenizer = OpenTokenizer(a.model, **model, a.vocab);
  if (!tokenizer.ok()) return Fail(tokenizer.message());
  const Tokenizer* tok = tokenizer->get();

  std::string prompt_text = a.prompt;
  if (!a.prompt_file.empty()) {
    auto bytes = ReadInput(a.prompt_file);
    if (!bytes.ok()) return Fail(bytes.message());
    prompt_text = std::move(*bytes);
  }
  std::vector<int> prompt;
  if (tok != nullptr) {
    prompt = tok->Encode(prompt_text);
  } else {
    // A model without a tokenizer runs from token ids: the prompt is "id,id,…".
    if (!a.stops.empty()) return Fail("--stop needs a tokenizer; this model runs from token ids");
    auto ids = ParseIds(prompt_text);
    if (!ids.ok())
      return Fail(ids.message() + " (this model has no tokenizer: the prompt is token ids)");
    prompt = std::move(*ids);
  }
  if (Status s = CheckIds(prompt, config.n_vocab); !s.ok()) return Fail(s.message());
  auto grammar = CompileGrammarFlags(a.grammar, tok, config.n_vocab);
  if (!grammar.ok()) return Fail(grammar.message());
  std::optional<GrammarMatcher> matcher;
  if (*grammar != nullptr) matcher.emplace(*grammar);
  TokenMask mask;
  // Nothing to condition on: start after token 0, the end-of-document token that precedes every
  // document in RWKV training data.
  if (prompt.empty()) prompt.push_back(0);

  State state(config);
  if (!a.state_in.empty()) {
    auto loaded = State::Load(a.state_in, config);
    if (!loaded.ok()) return Fail(loaded.message());
    state = std::move(*loaded);
  }
  if (!seed_given) {
    a.sampling.seed = RandomSeed();
    if (a.sampling.temperature > 0) {
      std::fprintf(stderr, "seed: %llu\n", static_cast<unsigned long long>(a.sampling.seed));
    }
  }

  Session session(*model, SessionOptions{a.threads});
  std::vector<float> logits;
  const auto prefill_start = std::chrono::steady_clock::now();
  PrefillWithProgress(session, state, prompt, &logits);
  const double prefill_s = SecondsSince(prefill_start);
  // On a terminal the prompt stands before its completion (as llama.cpp shows it); a pipe gets
  // the completion alone.
  std::string last_out;
  const auto write = [&last_out](const std::string& bytes) {
    WriteOut(bytes);
    if (!bytes.empty()) last_out = bytes;
  };
  if (!a.no_echo && isatty(STDOUT_FILENO) != 0) write(prompt_text);
  if (Status s = CheckLogits(session, state, prompt.back(), logits); !s.ok()) {
    Fail(s.message());
    return kExitNonFinite;
  }

  Sampler sampler(config.n_vocab, a.sampling);
  TextStream stream(a.stops);
  int generated = 0;
  const auto decode_start = std::chrono::steady_clock::now();
  while (generated < a.max_tokens) {
    if (matcher && matcher->IsComplete()) break;
    const int token =
        matcher ? SampleWithGrammar(sampler, *matcher, &mask, logits) : sampler.Sample(logits);
    if (token < 0) {
      write(tok != nullptr ? stream.Flush() + "\n" : "\n");
      return Fail("the grammar allows no token the model gives a finite logit");
    }
    if (token == 0) break;  // end of document
    sampler.Accept(token);
    if (tok != nullptr) {
      write(stream.Push(tok->TokenBytes(token)));
    } else {
      write(generated > 0 ? "," + std::to_string(token) : std::to_string(token));
    }
    ++generated;
    // The state always takes the sampled token, so a saved state continues after the output.
    const std::span<const float> next = session.Step(state, token);
    if (Status s = CheckLogits(session, state, token, next); !s.ok()) {
      write(tok != nullptr ? stream.Flush() + "\n" : "\n");
      Fail(s.message());
      return kExitNonFinite;
    }
    logits.assign(next.begin(), next.end());
    if (stream.stopped()) break;
  }
  const double decode_s = SecondsSince(decode_start);
  if (tok != nullptr) {
    write(stream.Flush());
  } else if (generated > 0) {
    write("\n");
  }

  if (!a.state_out.empty()) {
    if (Status s = state.Save(a.state_out); !s.ok()) return Fail(s.message());
  }
  // The report below starts its own line even when the text did not end one.
  if (!last_out.empty() && last_out.back() != '\n' && StdoutSharesStderrLine()) {
    std::fputc('\n', stderr);
  }
  if (matcher) {
    std::fputs(matcher->IsComplete() ? "grammar: complete\n"
                                     : "grammar: incomplete (cut by --max-tokens or --stop)\n",
               stderr);
  }
  std::fprintf(
      stderr,
      "prefill: %zu tokens in %.3f s (%.1f tok/s); decode: %d tokens in %.3f s (%.1f tok/s)\n",
      prompt.size(), prefill_s,
      prefill_s > 0 ? static_cast<double>(prompt.size()) / prefill_s : 0.0, generated, decode_s,
      decode_s > 0 ? generated / decode_s : 0.0);
  return 0;
}

}  // namespace

Command AddGenerate(CLI::App& app) {
  auto args = std::make_shared<GenerateArgs>();
  CLI::App* sub = app.add_subcommand(
      "generate",
      "Continue a prompt: prefill it, then sample and stream the completion to stdout "
      "(speed on stderr)");
  sub->add_option("-m,--model", args->model,
                  "Model: an RWKV-7 .pth/.gguf file or a Hugging Face folder (default: Anser's "
                  "own byte-level Shakespeare model)")
      ->type_name("MODEL");
  sub->add_option("--vocab", args->vocab,
                  "World vocabulary file (65536-token models; default: rwkv_vocab_v20230424.txt "
                  "beside the model, then $ANSER_VOCAB, then Anser's own copy)");
  CLI::Option* prompt =
      sub->add_option("-p,--prompt", args->prompt,
                      "Prompt text (comma-separated token ids for models without a tokenizer)");
  CLI::Option* file =
      sub->add_option("-f,--file", args->prompt_file, "Read the prompt from FILE ('-' = stdin)")
          ->type_name("FILE");
  prompt->excludes(file);
  sub->add_option("-n,--max-tokens", args->max_tokens, "Tokens to generate at most")
      ->check(WholeInRange(0))
      ->capture_default_str();
  CLI::Option* seed = nullptr;
  AddSamplingFlags(sub, &args->sampling, &seed);
  sub->add_option("--stop", args->stops, "Stop when this string appears (repeatable; not printed)")
      ->allow_extra_args(false);
  sub->add_option("--state", args->state_in, "Start from this state file instead of the zero state")

      ->check(CLI::ExistingFile);
  sub->add_option("--save-state", args->state_out, "Save the state after generation to FILE")
      ->type_name("FILE");
  sub->add_flag("--no-echo", args->no_echo,
                "Do not print the prompt before the completion (only a terminal shows it)");
  AddGrammarFlags(sub, &args->grammar);
  AddThreadsFlag(sub, &args->threads);
  return {sub, [args, seed, prompt, file] {
            if (prompt->count() == 0 && file->count() == 0) {
              return FailUsage("generate needs a prompt: -p TEXT, -f FILE or -f - (stdin)");
            }
            return RunGenerate(*args, seed->count() > 0);
          }};
}

}  // namespace anser::cli
