// The structured-output flags of `generate` and `chat` (llama.cpp's names): --grammar,
// --grammar-file, --json-schema, --json-schema-file, --json-object.
#pragma once

#include <CLI/CLI.hpp>
#include <memory>
#include <string>

#include "anser/grammar.h"
#include "anser/status.h"
#include "anser/tokenizer.h"

namespace anser::cli {

struct GrammarFlags {
  std::string gbnf;
  std::string gbnf_file;
  std::string schema;
  std::string schema_file;
  bool json_object = false;
};

// Registers the five flags on `sub`, mutually exclusive.
void AddGrammarFlags(CLI::App* sub, GrammarFlags* flags);

// The grammar the flags ask for, compiled for the model's vocabulary; nullptr when none was
// asked for. Errors say which flag and what is wrong (line and column for GBNF).
Result<std::shared_ptr<const CompiledGrammar>> CompileGrammarFlags(const GrammarFlags& flags,
                                                                   const Tokenizer* tokenizer,
                                                                   int n_vocab);

}  // namespace anser::cli
