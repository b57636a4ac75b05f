// CompiledGrammar and GrammarMatcher: the public face of the grammar engine.
#include <utility>

#include "anser/grammar.h"
#include "core/check.h"
#include "grammar/engine.h"
#include "grammar/gbnf_parser.h"

namespace anser {

CompiledGrammar::~CompiledGrammar() = default;

Result<std::shared_ptr<const CompiledGrammar>> CompiledGrammar::FromGbnf(
    std::string_view gbnf, std::shared_ptr<const GrammarVocabulary> vocabulary,
    const std::string& root_rule) {
  ANSER_CHECK(vocabulary != nullptr, "CompiledGrammar::FromGbnf: no vocabulary");
  ANSER_ASSIGN_OR_RETURN(grammar::GrammarAst ast, grammar::ParseGbnf(gbnf, root_rule));
  ANSER_ASSIGN_OR_RETURN(grammar::Nfa nfa, grammar::BuildNfa(ast));
  std::shared_ptr<CompiledGrammar> compiled(new CompiledGrammar());
  compiled->vocabulary_ = std::move(vocabulary);
  compiled->engine_ =
      std::make_unique<grammar::Engine>(std::move(nfa), compiled->vocabulary_->index());
  return std::shared_ptr<const CompiledGrammar>(std::move(compiled));
}

Result<std::shared_ptr<const CompiledGrammar>> CompiledGrammar::FromJsonSchema(
    std::string_view schema, std::shared_ptr<const GrammarVocabulary> vocabulary) {
  ANSER_ASSIGN_OR_RETURN(std::string gbnf, JsonSchemaToGbnf(schema));
  Result<std::shared_ptr<const CompiledGrammar>> compiled = FromGbnf(gbnf, std::move(vocabulary));
  if (!compiled.ok()) {
    // The converter's output always parses; an error here is a bug worth a clear report.
    return Status::Error("[grammar] JSON Schema converted to an invalid grammar: " +
                         compiled.message());
  }
  return compiled;
}

Result<std::shared_ptr<const CompiledGrammar>> CompiledGrammar::AnyJson(
    std::shared_ptr<const GrammarVocabulary> vocabulary) {
  return FromGbnf(AnyJsonGbnf(), std::move(vocabulary));
}

int CompiledGrammar::state_count() const { return engine_->nfa().state_count(); }

GrammarMatcher::GrammarMatcher(std::shared_ptr<const CompiledGrammar> grammar)
    : grammar_(std::move(grammar)) {
  ANSER_CHECK(grammar_ != nullptr, "GrammarMatcher: no grammar");
  state_ = std::make_unique<grammar::ParseState>(grammar_->engine().Start());
}

GrammarMatcher::GrammarMatcher(const GrammarMatcher& other)
    : grammar_(other.grammar_),
      state_(std::make_unique<grammar::ParseState>(*other.state_)),
      ended_(other.ended_) {}

GrammarMatcher& GrammarMatcher::operator=(const GrammarMatcher& other) {
  if (this != &other) {
    grammar_ = other.grammar_;
    state_ = std::make_unique<grammar::ParseState>(*other.state_);
    ended_ = other.ended_;
  }
  return *this;
}

GrammarMatcher::GrammarMatcher(GrammarMatcher&&) noexcept = default;
GrammarMatcher& GrammarMatcher::operator=(GrammarMatcher&&) noexcept = default;
GrammarMatcher::~GrammarMatcher() = default;

void GrammarMatcher::FillNextTokenMask(TokenMask* mask) {
  if (ended_) {
    mask->Resize(grammar_->vocabulary().size());
    mask->Clear();
    return;
  }
  grammar_->engine().FillMask(*state_, mask);
}

bool GrammarMatcher::IsTokenAllowed(int token) {
  if (ended_ || token < 0 || token >= grammar_->vocabulary().size()) return false;
  if (token == 0) return state_->can_end;
  const std::string_view bytes = grammar_->vocabulary().TokenBytes(token);
  if (bytes.empty()) return false;
  const bool can_end = state_->can_end;
  state_->saved_heads = state_->heads;
  const bool fits = grammar_->engine().Advance(*state_, bytes);
  std::swap(state_->heads, state_->saved_heads);
  state_->can_end = can_end;
  return fits;
}

bool GrammarMatcher::AcceptToken(int token) {
  if (ended_ || token < 0 || token >= grammar_->vocabulary().size()) return false;
  if (token == 0) {
    if (!state_->can_end) return false;
    ended_ = true;
    return true;
  }
  const std::string_view bytes = grammar_->vocabulary().TokenBytes(token);
  return !bytes.empty() && AcceptBytes(bytes);
}

bool GrammarMatcher::AcceptBytes(std::string_view bytes) {
  if (ended_) return false;
  // Frames added to the arena on the way are harmless if the bytes do not fit: only the heads
  // and the end flag are restored.
  const bool can_end = state_->can_end;
  state_->saved_heads = state_->heads;
  if (grammar_->engine().Advance(*state_, bytes)) return true;
  std::swap(state_->heads, state_->saved_heads);
  state_->can_end = can_end;
  return false;
}

bool GrammarMatcher::CanEnd() const { return !ended_ && state_->can_end; }

bool GrammarMatcher::IsComplete() const {
  return ended_ || (state_->can_end && state_->heads.empty());
}

}  // namespace anser
