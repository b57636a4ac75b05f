// A character-by-character view of JSON text: whether a character is inside a string, how deep
// it is in arrays and objects, and which characters compact JSON text leaves out.
#pragma once

#include <string>
#include <string_view>

namespace anser::grammar {

struct JsonTextScan {
  int depth = 0;
  bool in_string = false;
  bool escaped = false;

  // Takes the next character; returns false for whitespace between tokens.
  bool Take(char c) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
      return true;
    }
    if (c == ' ' || c == '\n' || c == '\t' || c == '\r') return false;
    if (c == '"') in_string = true;
    if (c == '{' || c == '[') ++depth;
    if (c == '}' || c == ']') --depth;
    return true;
  }
};

// `json` without the whitespace between its tokens.
inline std::string CompactJson(std::string_view json) {
  std::string out;
  JsonTextScan scan;
  for (const char c : json) {
    if (scan.Take(c)) out += c;
  }
  return out;
}

}  // namespace anser::grammar
