// Writing GBNF: literals and character classes escaped so that ParseGbnf reads them back
// exactly, and JSON string contents in one canonical escaping.
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "grammar/codepoints.h"

namespace anser::grammar {

// A GBNF string literal matching exactly `bytes` (valid UTF-8).
std::string GbnfLiteral(std::string_view bytes);
// A GBNF character class matching exactly the characters of `set` (non-empty).
std::string GbnfClass(const CodepointSet& set);
// A GBNF expression matching one character of `set` as it appears inside a JSON string: itself
// where JSON allows it unescaped, else its one escape (\" \\ \b \f \n \r \t, \u00XX for the
// other control characters). Non-empty `set`.
std::string JsonStringChars(const CodepointSet& set);
// The characters JSON strings may hold unescaped: everything but ", \ and U+0000–U+001F.
const CodepointSet& JsonUnescapedChars();
// A GBNF literal of the JSON text of string `value` (quotes included).
std::string JsonStringLiteral(std::string_view value);
// The pieces joined. (GCC 12 warns falsely about `"literal" + std::string` under -O2, PR 105651.)
std::string Concat(std::initializer_list<std::string_view> pieces);
// "a | b | c" in parentheses when there is more than one alternative; "" for none.
std::string JoinAlternatives(const std::vector<std::string>& alternatives);

}  // namespace anser::grammar
