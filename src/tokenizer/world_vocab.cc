#include "tokenizer/world_vocab.h"

#include <array>
#include <cerrno>
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <system_error>

#include "tokenizer/python_literal.h"

namespace anser {
namespace {

// Far above any real vocabulary (World: 65535 ids, tokens of at most 128 bytes, a file of 1 MB),
// low enough that a corrupt id, line or file cannot trigger a huge allocation: the ids index a
// table, and a token's literal is decoded into a string.
constexpr int64_t kMaxTokenId = 1 << 20;
constexpr size_t kMaxLineBytes = 4096;
constexpr int64_t kMaxFileBytes = int64_t{64} << 20;

// Parses a whole field as a non-negative decimal number; -1 if it is anything else.
int64_t ParseDecimal(std::string_view field) {
  if (field.empty() || field.size() > 12) return -1;
  int64_t value = 0;
  const auto [end, error] = std::from_chars(field.data(), field.data() + field.size(), value);
  if (error != std::errc() || end != field.data() + field.size() || field[0] == '-') return -1;
  return value;
}

}  // namespace

Result<WorldVocab> ParseWorldVocab(std::string_view text, const std::string& name) {
  WorldVocab vocab;
  std::vector<size_t> defined_on_line;  // by id; 0 = not yet defined
  size_t line_number = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t line_end = text.find('\n', pos);
    if (line_end == std::string_view::npos) line_end = text.size();
    std::string_view line = text.substr(pos, line_end - pos);
    pos = line_end + 1;
    ++line_number;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) continue;

    const std::string where = "[tokenizer] " + name + ":" + std::to_string(line_number) + ": ";
    if (line.size() > kMaxLineBytes) {
      return Status::Error(where + "line of " + std::to_string(line.size()) + " bytes is longer than " +
                           std::to_string(kMaxLineBytes) + ": not a vocabulary file");
    }
    // REPR may itself hold spaces, so the fields are split at the first and last space.
    const size_t first_space = line.find(' ');
    const size_t last_space = line.rfind(' ');
    if (first_space == std::string_view::npos || first_space == last_space) {
      return Status::Error(where + "expected `ID REPR LEN`, got `" + std::string(line) + "`");
    }
    const std::string_view id_field = line.substr(0, first_space);
    const std::string_view repr = line.substr(first_space + 1, last_space - first_space - 1);
    const std::string_view length_field = line.substr(last_space + 1);

    const int64_t id = ParseDecimal(id_field);
    if (id < 1 || id > kMaxTokenId) {
      return Status::Error(where + "token id must be a number from 1 to " +
                           std::to_string(kMaxTokenId) + ", got `" + std::string(id_field) + "`");
    }
    const int64_t length = ParseDecimal(length_field);
    if (length < 0) {
      return Status::Error(where + "byte length must be a number, got `" +
                           std::string(length_field) + "`");
    }
    Result<std::string> bytes = DecodePythonLiteral(repr);
    if (!bytes.ok()) return Status::Error(where + bytes.message());
    if (bytes->empty()) return Status::Error(where + "token " + std::to_string(id) + " is empty");
    if (static_cast<int64_t>(bytes->size()) != length) {
      return Status::Error(where + "token " + std::to_string(id) + " " + std::string(repr) +
                           " is " + std::to_string(bytes->size()) + " bytes, but its line says " +
                           std::to_string(length));
    }

    const size_t index = static_cast<size_t>(id);
    if (index >= vocab.tokens.size()) {
      vocab.tokens.resize(index + 1);
      defined_on_line.resize(index + 1, 0);
    }
    if (defined_on_line[index] != 0) {
      return Status::Error(where + "token id " + std::to_string(id) + " already defined on line " +
                           std::to_string(defined_on_line[index]));
    }
    defined_on_line[index] = line_number;
    vocab.tokens[index] = std::move(bytes).value();
  }

  std::array<bool, 256> byte_seen{};
  for (const std::string& token : vocab.tokens) {
    if (token.size() == 1) byte_seen[static_cast<uint8_t>(token[0])] = true;
  }
  for (int b = 0; b < 256; ++b) {
    if (!byte_seen[b]) {
      char hex[8];
      std::snprintf(hex, sizeof(hex), "0x%02X", b);
      return Status::Error("[tokenizer] " + name + ": no token for the single byte " + hex +
                           "; a World vocabulary must hold all 256 bytes");
    }
  }
  return vocab;
}

Result<WorldVocab> ReadWorldVocab(const std::string& path) {
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(path.c_str(), "rb"),
                                                       &std::fclose);
  if (!file) {
    return Status::Error("[tokenizer] cannot open vocabulary file " + path + ": " +
                         std::strerror(errno));
  }
  if (std::fseek(file.get(), 0, SEEK_END) == 0) {
    const long size = std::ftell(file.get());
    if (size > kMaxFileBytes) {
      return Status::Error("[tokenizer] vocabulary file " + path + " is " + std::to_string(size) +
                           " bytes, above the limit of " + std::to_string(kMaxFileBytes) + ": not a vocabulary file");
    }
    std::rewind(file.get());
  }
  std::string text;
  char buffer[1 << 16];
  size_t n;
  while ((n = std::fread(buffer, 1, sizeof(buffer), file.get())) > 0) text.append(buffer, n);
  if (std::ferror(file.get())) {
    return Status::Error("[tokenizer] cannot read vocabulary file " + path + ": " +
                         std::strerror(errno));
  }
  return ParseWorldVocab(text, path);
}

}  // namespace anser
