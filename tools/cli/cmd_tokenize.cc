// anser tokenize / detokenize: the World tokenizer from the command line.
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common.h"

namespace anser::cli {
namespace {

struct TokenizeArgs {
  std::string vocab;
  std::string text;
  std::string ids;
};

int RunTokenize(const TokenizeArgs& a) {
  auto tokenizer = LoadWorldTokenizer(a.vocab);
  if (!tokenizer.ok()) return Fail(tokenizer.message());
  WriteOut(nlohmann::json((*tokenizer)->Encode(a.text)).dump() + "\n");
  return 0;
}

int RunDetokenize(const TokenizeArgs& a) {
  auto tokenizer = LoadWorldTokenizer(a.vocab);
  if (!tokenizer.ok()) return Fail(tokenizer.message());
  auto ids = ParseIds(a.ids);
  if (!ids.ok()) return Fail(ids.message());
  auto text = (*tokenizer)->Decode(*ids);
  if (!text.ok()) return Fail(text.message());
  WriteOut(*text);
  return 0;
}

}  // namespace

Command AddTokenize(CLI::App& app) {
  auto args = std::make_shared<TokenizeArgs>();
  CLI::App* sub =
      app.add_subcommand("tokenize", "Print the World-tokenizer ids of a text as a JSON array");
  sub->add_option("--vocab", args->vocab, "World vocabulary file (rwkv_vocab_v20230424.txt)")
      ->required()
      ->check(CLI::ExistingFile);
  sub->add_option("--text", args->text, "Text to tokenize")->required();
  return {sub, [args] { return RunTokenize(*args); }};
}

Command AddDetokenize(CLI::App& app) {
  auto args = std::make_shared<TokenizeArgs>();
  CLI::App* sub = app.add_subcommand(
      "detokenize", "Print the text of World-tokenizer ids exactly (no newline added)");
  sub->add_option("--vocab", args->vocab, "World vocabulary file (rwkv_vocab_v20230424.txt)")
      ->required()
      ->check(CLI::ExistingFile);
  sub->add_option("--ids", args->ids, "Token ids, e.g. 1,2,3")->type_name("IDS")->required();
  return {sub, [args] { return RunDetokenize(*args); }};
}

}  // namespace anser::cli
