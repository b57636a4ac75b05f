// JSON Schema `pattern` (the regular-expression subset schemas use) as GBNF over the contents of
// a JSON string.
#pragma once

#include <string>
#include <string_view>

#include "anser/status.h"

namespace anser::grammar {

// A GBNF expression for the JSON string contents (between the quotes, escaped as
// JsonStringChars does) whose decoded text matches `pattern` anywhere, as JSON Schema's
// `pattern` does: an alternative not anchored by ^ / $ may have any text before / after it.
// Supported: literal characters, escapes (\d \w \s and their negations as ASCII sets, \t \n
// \r \f \v, \xHH, \uHHHH, escaped metacharacters), classes with ranges and negation, `.` (any
// character but line terminators), groups `(…)` and `(?:…)`, alternation, quantifiers * + ? {m}
// {m,} {m,n} (lazy forms match the same strings), and ^ / $ at the ends of top-level
// alternatives. Anything else (backreferences, lookaround, \b, flags, Unicode properties) is an
// error naming it.
Result<std::string> PatternToGbnf(std::string_view pattern);

}  // namespace anser::grammar
