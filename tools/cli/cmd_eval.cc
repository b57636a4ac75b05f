// anser eval: perplexity of a text file, or LAMBADA accuracy and perplexity.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <numbers>
#include <span>
#include <string>
#include <vector>

#include "common.h"
#include "flag_checks.h"

namespace anser::cli {
namespace {

// Tokens per Prefill call over a text file; the state carries across calls, so this bounds
// only the memory of the all-position logits.
constexpr size_t kWindow = 512;

struct EvalArgs {
  std::string model;
  std::string vocab;
  std::string text_file;
  std::string lambada;
  int limit = 0;
  std::string format = "text";
  int threads = 0;
};

// -log softmax(row)[target], in double so long sums stay exact enough.
double NegLogProb(std::span<const float> row, int target) {
  double max = -INFINITY;
  for (const float x : row) max = std::max(max, static_cast<double>(x));
  double sum = 0;
  for (const float x : row) sum += std::exp(static_cast<double>(x) - max);
  return std::log(sum) + max - static_cast<double>(row[static_cast<size_t>(target)]);
}

int ArgMax(std::span<const float> row) {
  return static_cast<int>(std::max_element(row.begin(), row.end()) - row.begin());
}

void Print(const nlohmann::json& result, const std::string& format) {
  if (format == "json") {
    WriteOut(result.dump(2) + "\n");
    return;
  }
  for (const auto& [key, value] : result.items()) {
    WriteOut(key + ": " + value.dump() + "\n");
  }
}

int EvalTextFile(const EvalArgs& a, std::shared_ptr<const Model> model,
                 const Tokenizer& tokenizer) {
  auto bytes = ReadInput(a.text_file);
  if (!bytes.ok()) return Fail(bytes.message());
  const std::vector<int> tokens = tokenizer.Encode(*bytes);
  if (tokens.size() < 2)
    return Fail("'" + a.text_file + "' is too short: eval needs at least 2 tokens");
  const int n_vocab = model->config().n_vocab;

  Session session(model, SessionOptions{a.threads});
  State state(model->config());
  std::vector<float> logits;
  double nats = 0;
  // Every token but the last is an input; the logits after input i score token i + 1.
  const size_t inputs = tokens.size() - 1;
  ProgressBar bar("eval", static_cast<int64_t>(inputs));
  for (size_t start = 0; start < inputs; start += kWindow) {
    const size_t n = std::min(kWindow, inputs - start);
    session.Prefill(state, std::span<const int>(tokens).subspan(start, n), /*all_positions=*/true,
                    &logits);
    for (size_t i = 0; i < n; ++i) {
      nats += NegLogProb(std::span<const float>(logits).subspan(i * n_vocab, n_vocab),
                         tokens[start + i + 1]);
    }
    bar.Update(static_cast<int64_t>(start + n));
  }
  bar.Finish();
  const double per_token = nats / static_cast<double>(inputs);
  Print({{"tokens", tokens.size()},
         {"bytes", bytes->size()},
         {"nats_per_token", per_token},
         {"bits_per_byte", nats / std::numbers::ln2 / static_cast<double>(bytes->size())},
         {"perplexity", std::exp(per_token)}},
        a.format);
  return 0;
}

int EvalLambada(const EvalArgs& a, std::shared_ptr<const Model> model, const Tokenizer& tokenizer) {
  std::ifstream in(a.lambada);
  if (!in)
    return Fail("cannot open '" + a.lambada +
                "': pass the LAMBADA jsonl file ({\"text\": ...} per line)");
  struct Passage {
    std::vector<int> context;
    std::vector<int> target;
  };
  std::vector<Passage> passages;
  const int n_vocab = model->config().n_vocab;
  std::string line;
  for (int line_no = 1; std::getline(in, line); ++line_no) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    if (a.limit > 0 && static_cast<int>(passages.size()) == a.limit) break;
    const nlohmann::json j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (!j.is_object() || !j.contains("text") || !j["text"].is_string()) {
      return Fail(a.lambada + ":" + std::to_string(line_no) +
                  ": expected a JSON object {\"text\": \"...\"}");
    }
    const std::string text = j["text"].get<std::string>();
    const size_t space = text.rfind(' ');
    if (space == std::string::npos) {
      return Fail(a.lambada + ":" + std::to_string(line_no) +
                  ": the passage has no space before its last word");
    }
    Passage p;
    // World-vocabulary models were trained with token 0 opening every document.
    if (n_vocab == 65536) p.context.push_back(0);
    const std::vector<int> context = tokenizer.Encode(text.substr(0, space));
    p.context.insert(p.context.end(), context.begin(), context.end());
    p.target = tokenizer.Encode(text.substr(space));
    if (p.context.empty() || p.target.empty()) {
      return Fail(a.lambada + ":" + std::to_string(line_no) + ": empty context or last word");
    }
    passages.push_back(std::move(p));
  }
  if (passages.empty()) return Fail("'" + a.lambada + "' holds no passages");

  Session session(model, SessionOptions{a.threads});
  State state(model->config());
  std::vector<float> logits;
  std::vector<int> tokens;
  double nats = 0;
  int64_t target_tokens = 0;
  int correct = 0;
  ProgressBar bar("lambada", static_cast<int64_t>(passages.size()));
  for (size_t k = 0; k < passages.size(); ++k) {
    const Passage& p = passages[k];
    tokens = p.context;
    tokens.insert(tokens.end(), p.target.begin(), p.target.end());
    state.Reset();
    session.Prefill(state, tokens, /*all_positions=*/true, &logits);
    bool all_argmax = true;
    for (size_t j = 0; j < p.target.size(); ++j) {
      const std::span<const float> row =
          std::span<const float>(logits).subspan((p.context.size() - 1 + j) * n_vocab, n_vocab);
      nats += NegLogProb(row, p.target[j]);
      all_argmax = all_argmax && ArgMax(row) == p.target[j];
    }
    target_tokens += static_cast<int64_t>(p.target.size());
    correct += all_argmax ? 1 : 0;
    char note[64];
    std::snprintf(note, sizeof note, "acc %.4f ppl %.3f",
                  static_cast<double>(correct) / static_cast<double>(k + 1),
                  std::exp(nats / static_cast<double>(target_tokens)));
    bar.Update(static_cast<int64_t>(k + 1), note);
  }
  bar.Finish();
  Print({{"n", passages.size()},
         {"perplexity", std::exp(nats / static_cast<double>(target_tokens))},
         {"accuracy", static_cast<double>(correct) / static_cast<double>(passages.size())}},
        a.format);
  return 0;
}

int RunEval(const EvalArgs& a) {
  auto model = OpenModel(a.model);
  if (!model.ok()) return Fail(model.message());
  auto tokenizer = OpenTokenizer(a.model, **model, a.vocab);
  if (!tokenizer.ok()) return Fail(tokenizer.message());
  if (*tokenizer == nullptr) {
    return Fail("eval needs a tokenizer, and a model with " +
                std::to_string((*model)->config().n_vocab) + " tokens has none");
  }
  return a.text_file.empty() ? EvalLambada(a, *model, **tokenizer)
                             : EvalTextFile(a, *model, **tokenizer);
}

}  // namespace

Command AddEval(CLI::App& app) {
  auto args = std::make_shared<EvalArgs>();
  CLI::App* sub = app.add_subcommand(
      "eval", "Perplexity and bits/byte of a text file (--text-file), or LAMBADA (--lambada)");
  sub->add_option("-m,--model", args->model, "Model: an RWKV-7 .pth file or a Hugging Face folder")
      ->type_name("MODEL")
      ->required();
  sub->add_option("--vocab", args->vocab, "World vocabulary file (as for generate)")
      ->type_name("FILE");
  CLI::Option* text_file = sub->add_option("--text-file", args->text_file,
                                           "Score every token after the first of this file ('-' = "
                                           "stdin), state carried throughout")
                               ->type_name("FILE");
  CLI::Option* lambada =
      sub->add_option("--lambada", args->lambada,
                      "LAMBADA jsonl ({\"text\": ...} per line): predict each passage's last word")
          ->type_name("FILE");
  text_file->excludes(lambada);
  sub->add_option("--limit", args->limit, "LAMBADA: only the first N passages (0 = all)")
      ->check(WholeInRange(0));
  sub->add_option("--format", args->format, "Output format")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();
  AddThreadsFlag(sub, &args->threads);
  return {sub, [args, text_file, lambada] {
            if (text_file->count() == 0 && lambada->count() == 0) {
              return FailUsage("eval needs data: --text-file FILE or --lambada FILE");
            }
            return RunEval(*args);
          }};
}

}  // namespace anser::cli
