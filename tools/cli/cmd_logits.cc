// anser logits: dump raw float32 logits from the zero state, for checks against a reference.
#include <bit>
#include <cstdio>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "common.h"

namespace anser::cli {
namespace {

static_assert(std::endian::native == std::endian::little,
              "logits files are little-endian float32, written as the host stores floats");

struct LogitsArgs {
  std::string model;
  std::string vocab;
  std::string tokens;
  std::string text;
  bool all = false;
  bool step = false;
  std::string out;
  int threads = 0;
};

int RunLogits(const LogitsArgs& a, bool from_text) {
  auto model = OpenModel(a.model);
  if (!model.ok()) return Fail(model.message());
  const ModelConfig& config = (*model)->config();
  std::vector<int> ids;
  if (from_text) {
    auto tokenizer = OpenTokenizer(a.model, **model, a.vocab);
    if (!tokenizer.ok()) return Fail(tokenizer.message());
    if (*tokenizer == nullptr) {
      return Fail("this model (" + std::to_string(config.n_vocab) +
                  " tokens) has no tokenizer: pass token ids with --tokens");
    }
    ids = (*tokenizer)->Encode(a.text);
  } else {
    auto parsed = ParseIds(a.tokens);
    if (!parsed.ok()) return Fail(parsed.message());
    ids = std::move(*parsed);
  }
  if (ids.empty()) return Fail("no tokens to run: give at least one token (--tokens or --text)");
  if (Status s = CheckIds(ids, config.n_vocab); !s.ok()) return Fail(s.message());

  Session session(*model, SessionOptions{a.threads});
  State state(config);
  std::vector<float> logits;
  if (a.step) {
    for (size_t i = 0; i < ids.size(); ++i) {
      const std::span<const float> row = session.Step(state, ids[i]);
      if (a.all || i + 1 == ids.size()) logits.insert(logits.end(), row.begin(), row.end());
    }
  } else {
    session.Prefill(state, ids, a.all, &logits);
  }

  std::ofstream out(a.out, std::ios::binary | std::ios::trunc);
  if (!out) return Fail("cannot write '" + a.out + "': check the folder exists and is writable");
  out.write(reinterpret_cast<const char*>(logits.data()),
            static_cast<std::streamsize>(logits.size() * sizeof(float)));
  out.close();
  if (!out) return Fail("writing '" + a.out + "' failed (disk full?)");
  std::fprintf(stderr, "wrote %zu x %d float32 logits to %s\n", logits.size() / config.n_vocab,
               config.n_vocab, a.out.c_str());
  return 0;
}

}  // namespace

Command AddLogits(CLI::App& app) {
  auto args = std::make_shared<LogitsArgs>();
  CLI::App* sub = app.add_subcommand(
      "logits",
      "Write little-endian float32 logits [positions][n_vocab] from the zero state (no token "
      "added): the last position, or every position with --all");
  sub->add_option("-m,--model", args->model, "Model: an RWKV-7 .pth file or a Hugging Face folder")
      ->type_name("MODEL")
      ->required();
  CLI::Option* tokens =
      sub->add_option("--tokens", args->tokens, "Token ids, e.g. 1,2,3")->type_name("IDS");
  CLI::Option* text =
      sub->add_option("--text", args->text, "Text, tokenized with the model's tokenizer");
  tokens->excludes(text);
  sub->add_option("--vocab", args->vocab,
                  "World vocabulary file (for --text with a 65536-token model)")
      ->type_name("FILE");
  sub->add_flag("--all", args->all, "Write the logits of every position, not only the last");
  sub->add_flag("--step", args->step, "Use the one-token (RNN) path instead of the sequence path");
  sub->add_option("--out", args->out, "Output file")->type_name("FILE")->required();
  AddThreadsFlag(sub, &args->threads);
  return {sub, [args, tokens, text] {
            if (tokens->count() == 0 && text->count() == 0) {
              return FailUsage("logits needs input: --tokens 1,2,3 or --text \"...\"");
            }
            return RunLogits(*args, text->count() > 0);
          }};
}

}  // namespace anser::cli
