// GBNF, llama.cpp's grammar notation, parsed into a GrammarAst.
#pragma once

#include <string>
#include <string_view>

#include "anser/status.h"
#include "grammar/gbnf_ast.h"

namespace anser::grammar {

// Parses `text`: rules `name ::= alternatives`, alternatives separated by `|`, sequences of
// "literals", [character classes] ([^…] negated, a-z ranges), `.` (any character), rule names
// and (groups), each optionally followed by `*`, `+`, `?`, `{m}`, `{m,}`, `{m,n}` or `{,n}`.
// Escapes in literals and classes: \n \r \t \\ \" \[ \] \- \xHH \uHHHH \UHHHHHHHH (code
// points). `#` starts a comment to the end of the line. A newline ends a rule except inside
// parentheses and after `|` or `::=`. Every referenced rule must be defined, and `root_rule`
// too. Errors read "[grammar] line L, column C: …".
Result<GrammarAst> ParseGbnf(std::string_view text, const std::string& root_rule);

}  // namespace anser::grammar
