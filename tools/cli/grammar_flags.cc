#include "grammar_flags.h"

#include <utility>

#include "common.h"

namespace anser::cli {

void AddGrammarFlags(CLI::App* sub, GrammarFlags* flags) {
  CLI::Option* gbnf = sub->add_option("--grammar", flags->gbnf,
                                      "Constrain the output to this GBNF grammar (start rule "
                                      "'root'; see docs/STRUCTURED.md)")
                          ->type_name("TEXT");
  CLI::Option* gbnf_file =
      sub->add_option("--grammar-file", flags->gbnf_file, "Constrain the output to a GBNF file")
          ->type_name("FILE");
  CLI::Option* schema = sub->add_option("--json-schema", flags->schema,
                                        "Constrain the output to JSON matching this JSON Schema")
                            ->type_name("TEXT");
  CLI::Option* schema_file =
      sub->add_option("--json-schema-file", flags->schema_file,
                      "Constrain the output to JSON matching the JSON Schema in FILE")
          ->type_name("FILE");
  CLI::Option* json_object =
      sub->add_flag("--json-object", flags->json_object, "Constrain the output to any JSON value");
  const std::vector<CLI::Option*> all = {gbnf, gbnf_file, schema, schema_file, json_object};
  for (CLI::Option* a : all) {
    for (CLI::Option* b : all) {
      if (a != b) a->excludes(b);
    }
  }
}

Result<std::shared_ptr<const CompiledGrammar>> CompileGrammarFlags(const GrammarFlags& flags,
                                                                   const Tokenizer* tokenizer,
                                                                   int n_vocab) {
  const bool asked = !flags.gbnf.empty() || !flags.gbnf_file.empty() || !flags.schema.empty() ||
                     !flags.schema_file.empty() || flags.json_object;
  if (!asked) return std::shared_ptr<const CompiledGrammar>();
  if (tokenizer == nullptr) {
    return Status::Error(
        "a grammar needs the model's tokenizer (grammars work on text), and a "
        "model with " +
        std::to_string(n_vocab) + " tokens has none");
  }
  auto vocabulary = GrammarVocabulary::FromTokenizer(*tokenizer, n_vocab);
  if (flags.json_object) return CompiledGrammar::AnyJson(vocabulary);
  auto with_flag = [](const std::string& flag,
                      Result<std::shared_ptr<const CompiledGrammar>> compiled)
      -> Result<std::shared_ptr<const CompiledGrammar>> {
    if (!compiled.ok()) return Status::Error(flag + ": " + compiled.message());
    return compiled;
  };
  if (!flags.gbnf.empty()) {
    return with_flag("--grammar", CompiledGrammar::FromGbnf(flags.gbnf, vocabulary));
  }
  if (!flags.schema.empty()) {
    return with_flag("--json-schema", CompiledGrammar::FromJsonSchema(flags.schema, vocabulary));
  }
  const std::string& path = flags.gbnf_file.empty() ? flags.schema_file : flags.gbnf_file;
  Result<std::string> text = ReadInput(path);
  if (!text.ok()) return text.status();
  if (!flags.gbnf_file.empty()) {
    return with_flag("--grammar-file " + path, CompiledGrammar::FromGbnf(*text, vocabulary));
  }
  return with_flag("--json-schema-file " + path,
                   CompiledGrammar::FromJsonSchema(*text, vocabulary));
}

}  // namespace anser::cli
