// Reading of RWKV World vocabulary files: one token a line, `ID REPR LEN`.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "anser/status.h"

namespace anser {

// Token bytes indexed by id; an empty entry is an id the file does not define (always 0).
struct WorldVocab {
  std::vector<std::string> tokens;
};

// Parses the text of a vocabulary file. `name` (the path) prefixes every error, which also
// gives the 1-based line number. Each line is `ID REPR LEN`: ID a positive decimal id not seen
// before, REPR a Python literal (see python_literal.h), LEN its length in bytes, which must
// match. Empty lines are skipped and a trailing \r is ignored. The 256 single bytes must all be
// tokens, so that every byte string can be encoded.
Result<WorldVocab> ParseWorldVocab(std::string_view text, const std::string& name);

// Reads and parses the file at `path`.
Result<WorldVocab> ReadWorldVocab(const std::string& path);

}  // namespace anser
