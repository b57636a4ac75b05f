#include "tokenizer/python_literal.h"

#include <cstdint>
#include <string>

namespace anser {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool IsSurrogate(uint32_t cp) { return cp >= 0xD800 && cp <= 0xDFFF; }

// Appends `cp` (a scalar value, checked by the caller) as UTF-8.
void AppendUtf8(uint32_t cp, std::string* out) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

// Length of the well-formed UTF-8 sequence starting at body[i], or 0. Python reads the
// vocabulary as UTF-8 and would refuse the file otherwise, so overlong forms, surrogates and
// values above U+10FFFF are rejected too.
size_t Utf8SequenceLength(std::string_view body, size_t i) {
  const auto byte = [&](size_t k) { return static_cast<uint8_t>(body[k]); };
  const uint8_t lead = byte(i);
  size_t length;
  uint32_t cp;
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
    cp = lead & 0x1F;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
    cp = lead & 0x0F;
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
    cp = lead & 0x07;
  } else {
    return 0;
  }
  if (i + length > body.size()) return 0;
  for (size_t k = 1; k < length; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (byte(i + k) & 0x3F);
  }
  const uint32_t smallest = length == 2 ? 0x80 : length == 3 ? 0x800 : 0x10000;
  if (cp < smallest || cp > 0x10FFFF || IsSurrogate(cp)) return 0;
  return length;
}

// Reads exactly `digits` hex digits at body[i]; returns -1 if they are not all there.
int64_t ReadHex(std::string_view body, size_t i, int digits) {
  if (i + digits > body.size()) return -1;
  int64_t value = 0;
  for (int k = 0; k < digits; ++k) {
    const int digit = HexValue(body[i + k]);
    if (digit < 0) return -1;
    value = value * 16 + digit;
  }
  return value;
}

}  // namespace

Result<std::string> DecodePythonLiteral(std::string_view literal) {
  size_t start = 0;
  bool is_bytes = false;
  if (!literal.empty() && (literal[0] == 'b' || literal[0] == 'B')) {
    is_bytes = true;
    start = 1;
  } else if (!literal.empty() && (literal[0] == 'u' || literal[0] == 'U')) {
    start = 1;
  }
  if (start >= literal.size() || (literal[start] != '\'' && literal[start] != '"')) {
    return Status::Error("expected a quoted Python str or bytes literal, got `" +
                         std::string(literal) + "`");
  }
  const char quote = literal[start];
  if (literal.size() - start < 2 || literal.back() != quote) {
    return Status::Error("unterminated literal `" + std::string(literal) + "`");
  }
  const std::string_view body = literal.substr(start + 1, literal.size() - start - 2);
  const char* const kind = is_bytes ? "bytes" : "str";

  std::string out;
  out.reserve(body.size());
  size_t i = 0;
  while (i < body.size()) {
    const char c = body[i];
    if (c == quote) {
      return Status::Error(std::string("unescaped quote inside ") + kind + " literal `" +
                           std::string(literal) + "`");
    }
    if (c == '\n' || c == '\r') {
      return Status::Error(std::string("line break inside ") + kind + " literal");
    }
    if (static_cast<uint8_t>(c) >= 0x80) {
      if (is_bytes) {
        return Status::Error("bytes literal `" + std::string(literal) +
                             "` holds a non-ASCII character; write it as \\xHH");
      }
      const size_t length = Utf8SequenceLength(body, i);
      if (length == 0) {
        return Status::Error("str literal holds invalid UTF-8 at byte " + std::to_string(i + 1));
      }
      out.append(body.substr(i, length));
      i += length;
      continue;
    }
    if (c != '\\') {
      out.push_back(c);
      ++i;
      continue;
    }
    // A backslash as the body's last character would escape the closing quote.
    if (i + 1 == body.size()) {
      return Status::Error("unterminated literal `" + std::string(literal) + "`");
    }
    const char e = body[i + 1];
    i += 2;
    // `value` is a byte for bytes literals and a code point for str literals.
    int64_t value = -1;
    switch (e) {
      case '\\':
      case '\'':
      case '"':
        value = e;
        break;
      case 'a':
        value = '\a';
        break;
      case 'b':
        value = '\b';
        break;
      case 'f':
        value = '\f';
        break;
      case 'n':
        value = '\n';
        break;
      case 'r':
        value = '\r';
        break;
      case 't':
        value = '\t';
        break;
      case 'v':
        value = '\v';
        break;
      case 'x':
        value = ReadHex(body, i, 2);
        if (value < 0) return Status::Error("truncated \\xHH escape");
        i += 2;
        break;
      case 'u':
      case 'U':
        if (is_bytes) break;  // Not an escape in bytes: the backslash stays.
        value = ReadHex(body, i, e == 'u' ? 4 : 8);
        if (value < 0) {
          return Status::Error(e == 'u' ? "truncated \\uXXXX escape"
                                        : "truncated \\UXXXXXXXX escape");
        }
        i += e == 'u' ? 4 : 8;
        if (value > 0x10FFFF) return Status::Error("escape beyond U+10FFFF");
        if (IsSurrogate(static_cast<uint32_t>(value))) {
          return Status::Error("surrogate escape cannot be encoded to UTF-8");
        }
        break;
      case 'N':
        if (is_bytes) break;
        return Status::Error("\\N{name} escapes are not supported");
      default:
        if (e >= '0' && e <= '7') {
          value = e - '0';
          for (int k = 0; k < 2 && i < body.size() && body[i] >= '0' && body[i] <= '7'; ++k) {
            value = value * 8 + (body[i] - '0');
            ++i;
          }
          // Python 3.11 silently keeps the low byte here and newer versions warn; such a
          // vocabulary line is a mistake, so refuse it.
          if (is_bytes && value > 0xFF) {
            return Status::Error("octal escape above \\377 in bytes literal");
          }
        }
        break;
    }
    if (value < 0) {
      // Unknown escape: Python keeps the backslash and reads the next character normally.
      out.push_back('\\');
      i -= 1;
      continue;
    }
    if (is_bytes) {
      out.push_back(static_cast<char>(value));
    } else {
      AppendUtf8(static_cast<uint32_t>(value), &out);
    }
  }
  return out;
}

}  // namespace anser
