#include "grammar/gbnf_text.h"

#include <cstdio>
#include <nlohmann/json.hpp>

namespace anser::grammar {
namespace {

std::string Hex(uint32_t cp) {
  char buffer[16];
  if (cp <= 0xFF) {
    std::snprintf(buffer, sizeof(buffer), "\\x%02X", cp);
  } else if (cp <= 0xFFFF) {
    std::snprintf(buffer, sizeof(buffer), "\\u%04X", cp);
  } else {
    std::snprintf(buffer, sizeof(buffer), "\\U%08X", cp);
  }
  return buffer;
}

// One code point written inside a class: printable ASCII as itself unless it means something
// there, everything else as a hex escape.
std::string ClassChar(uint32_t cp) {
  if (cp >= 0x20 && cp < 0x7F && cp != '\\' && cp != ']' && cp != '[' && cp != '-' && cp != '^' &&
      cp != '"') {
    return std::string(1, static_cast<char>(cp));
  }
  return Hex(cp);
}

// The JSON escape of a character that cannot appear unescaped.
std::string JsonEscape(uint32_t cp) {
  switch (cp) {
    case '"':
      return "\\\"";
    case '\\':
      return "\\\\";
    case '\b':
      return "\\b";
    case '\f':
      return "\\f";
    case '\n':
      return "\\n";
    case '\r':
      return "\\r";
    case '\t':
      return "\\t";
    default: {
      char buffer[8];
      std::snprintf(buffer, sizeof(buffer), "\\u%04x", cp);
      return buffer;
    }
  }
}

}  // namespace

std::string GbnfLiteral(std::string_view bytes) {
  std::string out = "\"";
  for (const char c : bytes) {
    const auto b = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (b < 0x20 || b == 0x7F) {
      out += Hex(b);
    } else {
      out += c;  // printable ASCII, or part of a UTF-8 character (the parser decodes it)
    }
  }
  return out + "\"";
}

std::string GbnfClass(const CodepointSet& set) {
  std::string out = "[";
  for (const CodepointRange& r : set) {
    out += ClassChar(r.lo);
    if (r.hi > r.lo) {
      out += '-';
      out += ClassChar(r.hi);
    }
  }
  return out + "]";
}

const CodepointSet& JsonUnescapedChars() {
  static const CodepointSet kChars = Complement(Normalize({{0, 0x1F}, {'"', '"'}, {'\\', '\\'}}));
  return kChars;
}

std::string JsonStringChars(const CodepointSet& set) {
  std::string out;
  int alternatives = 0;
  const CodepointSet plain = Subtract(set, Subtract(Complement({}), JsonUnescapedChars()));
  if (!plain.empty()) {
    out += GbnfClass(plain);
    ++alternatives;
  }
  for (const CodepointRange& r : set) {
    for (uint32_t cp = r.lo; cp <= r.hi && cp <= 0x5C; ++cp) {
      if (cp < 0x20 || cp == '"' || cp == '\\') {
        out += (alternatives++ > 0 ? " | " : "") + GbnfLiteral(JsonEscape(cp));
      }
    }
  }
  return alternatives > 1 ? "(" + out + ")" : out;
}

std::string JsonStringLiteral(std::string_view value) {
  return GbnfLiteral(nlohmann::json(std::string(value)).dump());
}

}  // namespace anser::grammar

namespace anser::grammar {

std::string Concat(std::initializer_list<std::string_view> pieces) {
  std::string out;
  for (const std::string_view piece : pieces) out += piece;
  return out;
}

std::string JoinAlternatives(const std::vector<std::string>& alternatives) {
  std::string out;
  for (size_t k = 0; k < alternatives.size(); ++k) out += (k > 0 ? " | " : "") + alternatives[k];
  return alternatives.size() > 1 ? "(" + out + ")" : out;
}

}  // namespace anser::grammar
