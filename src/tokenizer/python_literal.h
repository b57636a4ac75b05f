// Decoding of the Python string and bytes literals that spell tokens in RWKV vocabulary files.
#pragma once

#include <string>
#include <string_view>

#include "anser/status.h"

namespace anser {

// The bytes a single-line Python literal denotes, as the official tokenizer obtains them with
// `eval` followed by `.encode("utf-8")` for `str`:
//   - 'text' or "text" (optionally u-prefixed) is a `str`: its characters, including those
//     written as \xHH, \ooo, \uXXXX and \UXXXXXXXX, are encoded to UTF-8;
//   - b'text' or b"text" is `bytes`: \xHH and \ooo give raw bytes, only ASCII may appear as is.
// Unknown escapes such as \$ keep their backslash, as Python does. Raw, triple-quoted and
// \N{name} literals are rejected, as are code points UTF-8 cannot carry (surrogates) and
// invalid UTF-8 in a str. The error message describes the problem without naming a file.
Result<std::string> DecodePythonLiteral(std::string_view literal);

}  // namespace anser
