// Grammar-constrained decoding: GBNF grammars and JSON Schemas compiled against a vocabulary,
// and a per-sequence matcher that says which tokens may come next.
//
// A grammar works on bytes: World tokens may end inside a UTF-8 character, and character classes
// are matched one UTF-8 byte at a time. Token 0 (end of text) is allowed exactly where the
// grammar can end. See docs/STRUCTURED.md for the notation and the JSON Schema coverage.
//
// Threads: a GrammarVocabulary and a CompiledGrammar are immutable to their users and may be
// shared by any number of threads (a CompiledGrammar fills its mask caches lazily, under its
// own lock). A GrammarMatcher belongs to one sequence and one thread; copy it to fork a sequence.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "anser/sampler.h"
#include "anser/status.h"
#include "anser/tokenizer.h"

namespace anser {

namespace grammar {
class Vocabulary;
class Engine;
class ParseState;
}  // namespace grammar

// The vocabulary as grammars see it: the bytes of every token id, indexed for mask computation
// (a byte trie). Build it once per tokenizer and share it between grammars.
class GrammarVocabulary {
 public:
  // `tokens[id]` = the bytes of token id. Id 0 is end of text whatever its bytes; other empty
  // entries are ids that can never be produced.
  explicit GrammarVocabulary(std::vector<std::string> tokens);
  // The tokenizer's TokenBytes for ids [0, n_vocab) (ids past its vocabulary are empty).
  static std::shared_ptr<const GrammarVocabulary> FromTokenizer(const Tokenizer& tokenizer,
                                                                int n_vocab);
  ~GrammarVocabulary();

  int size() const;
  std::string_view TokenBytes(int id) const;
  const grammar::Vocabulary& index() const { return *index_; }

 private:
  std::unique_ptr<grammar::Vocabulary> index_;
};

// The set of tokens allowed next: one bit per vocabulary id.
class TokenMask {
 public:
  TokenMask() = default;
  explicit TokenMask(int n_vocab) { Resize(n_vocab); }
  void Resize(int n_vocab);
  int size() const { return size_; }
  bool Allowed(int id) const { return (words_[static_cast<size_t>(id) >> 6] >> (id & 63)) & 1; }
  void Allow(int id) { words_[static_cast<size_t>(id) >> 6] |= uint64_t{1} << (id & 63); }
  void Clear();
  int Count() const;  // allowed tokens
  std::span<uint64_t> words() { return words_; }
  std::span<const uint64_t> words() const { return words_; }

 private:
  int size_ = 0;
  std::vector<uint64_t> words_;
};

// Sets logits[t] = -inf for every token the mask forbids, touching only those: whole words of 64
// allowed tokens are skipped. Sampling the result with any Sampler options draws from the
// model's distribution renormalised over the allowed tokens. `logits` has mask.size() values.
void ApplyTokenMask(const TokenMask& mask, std::span<float> logits);

// A grammar compiled for one vocabulary. Compilation parses and builds the automaton; the
// per-position token caches are filled on first use and then shared by every matcher.
class CompiledGrammar {
 public:
  // GBNF text (llama.cpp's notation, see docs/STRUCTURED.md), starting at rule `root_rule`.
  // Errors give the line and column.
  static Result<std::shared_ptr<const CompiledGrammar>> FromGbnf(
      std::string_view gbnf, std::shared_ptr<const GrammarVocabulary> vocabulary,
      const std::string& root_rule = "root");
  // A JSON Schema (JSON text); an unsupported keyword is an error naming it and where it is.
  static Result<std::shared_ptr<const CompiledGrammar>> FromJsonSchema(
      std::string_view schema, std::shared_ptr<const GrammarVocabulary> vocabulary);
  // Any JSON value (an object or array at the top for `json_object` mode is up to the caller:
  // this accepts any value).
  static Result<std::shared_ptr<const CompiledGrammar>> AnyJson(
      std::shared_ptr<const GrammarVocabulary> vocabulary);

  ~CompiledGrammar();
  const GrammarVocabulary& vocabulary() const { return *vocabulary_; }
  const grammar::Engine& engine() const { return *engine_; }
  int state_count() const;  // automaton states (a size measure)

 private:
  CompiledGrammar() = default;
  std::shared_ptr<const GrammarVocabulary> vocabulary_;
  std::unique_ptr<grammar::Engine> engine_;
};

// One sequence's position in a grammar. Cheap to create and to copy (a few small vectors).
class GrammarMatcher {
 public:
  explicit GrammarMatcher(std::shared_ptr<const CompiledGrammar> grammar);
  GrammarMatcher(const GrammarMatcher&);
  GrammarMatcher& operator=(const GrammarMatcher&);
  GrammarMatcher(GrammarMatcher&&) noexcept;
  GrammarMatcher& operator=(GrammarMatcher&&) noexcept;
  ~GrammarMatcher();

  // The tokens allowed next (token 0 iff CanEnd()). Resizes `mask` to the vocabulary. Cost: the
  // cached sets of the current grammar positions plus a check of the few tokens that cross a
  // rule boundary; never a pass over the vocabulary once the caches are warm.
  void FillNextTokenMask(TokenMask* mask);
  bool IsTokenAllowed(int token);
  // Advances by `token` if allowed and returns true; otherwise returns false and stays put.
  // Token 0 ends the grammar (allowed iff CanEnd()).
  bool AcceptToken(int token);
  // Advances by raw bytes (a prompt prefix the output must continue, or a test string).
  bool AcceptBytes(std::string_view bytes);
  // The text so far is a complete sentence of the grammar: token 0 may come next.
  bool CanEnd() const;
  // Nothing but the end can follow (or token 0 was accepted): generation should stop.
  bool IsComplete() const;

 private:
  std::shared_ptr<const CompiledGrammar> grammar_;
  std::unique_ptr<grammar::ParseState> state_;
  bool ended_ = false;  // token 0 was accepted
};

// One constrained sampling step: the mask of `matcher` applied to `logits` (forbidden tokens
// set to -inf, in place), a token drawn by `sampler`, and `matcher` advanced by it. Returns the token (0 = the end, only
// where the grammar can end), or -1 when no allowed token has a finite logit (the matcher is
// unchanged). `mask` is scratch.
int SampleWithGrammar(Sampler& sampler, GrammarMatcher& matcher, TokenMask* mask,
                      std::span<float> logits);

// The GBNF text a JSON Schema compiles to (what FromJsonSchema parses), for inspection.
Result<std::string> JsonSchemaToGbnf(std::string_view schema);
// The GBNF of any JSON value.
std::string AnyJsonGbnf();

}  // namespace anser
