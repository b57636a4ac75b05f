#include "tokenizer/python_literal.h"

#include <gtest/gtest.h>

#include <string>

namespace anser {
namespace {

std::string Decoded(std::string_view literal) {
  Result<std::string> bytes = DecodePythonLiteral(literal);
  EXPECT_TRUE(bytes.ok()) << literal << ": " << bytes.message();
  return bytes.ok() ? bytes.value() : std::string();
}

void ExpectRejected(std::string_view literal, std::string_view reason) {
  Result<std::string> bytes = DecodePythonLiteral(literal);
  ASSERT_FALSE(bytes.ok()) << literal << " decoded to " << bytes.value();
  EXPECT_NE(bytes.message().find(reason), std::string::npos) << bytes.message();
}

TEST(PythonLiteralTest, PlainStrings) {
  EXPECT_EQ(Decoded("'abc'"), "abc");
  EXPECT_EQ(Decoded("\"abc\""), "abc");
  EXPECT_EQ(Decoded("''"), "");
  EXPECT_EQ(Decoded("' '"), " ");
  EXPECT_EQ(Decoded("\"it's\""), "it's");
  EXPECT_EQ(Decoded("'say \"hi\"'"), "say \"hi\"");
  EXPECT_EQ(Decoded("u'abc'"), "abc");
  // Characters outside ASCII are already UTF-8 in the file and pass through unchanged.
  EXPECT_EQ(Decoded("'鹅ü🌍'"), "鹅ü🌍");
}

TEST(PythonLiteralTest, SimpleEscapes) {
  EXPECT_EQ(Decoded(R"('\\')"), "\\");
  EXPECT_EQ(Decoded(R"('\'')"), "'");
  EXPECT_EQ(Decoded(R"("\"")"), "\"");
  EXPECT_EQ(Decoded(R"('\"')"), "\"");
  EXPECT_EQ(Decoded(R"('\a\b\f\n\r\t\v')"), "\a\b\f\n\r\t\v");
  EXPECT_EQ(Decoded(R"(b'\a\b\f\n\r\t\v\\\'')"), "\a\b\f\n\r\t\v\\'");
}

TEST(PythonLiteralTest, StrHexAndOctalAreCodePoints) {
  // In a str, \xe9 is the character U+00E9, which UTF-8 spells as two bytes.
  EXPECT_EQ(Decoded(R"('\xe9')"), "\xC3\xA9");
  EXPECT_EQ(Decoded(R"('\x00')"), std::string(1, '\0'));
  EXPECT_EQ(Decoded(R"('\x7f\x41')"), std::string("\x7f") + "A");
  EXPECT_EQ(Decoded(R"('\0')"), std::string(1, '\0'));
  EXPECT_EQ(Decoded(R"('\101')"), "A");
  EXPECT_EQ(Decoded(R"('\1011')"), "A1");       // at most three octal digits
  EXPECT_EQ(Decoded(R"('\777')"), "\xC7\xBF");  // U+01FF
  EXPECT_EQ(Decoded(R"('\08')"), std::string(1, '\0') + "8");
}

TEST(PythonLiteralTest, StrUnicodeEscapes) {
  EXPECT_EQ(Decoded(R"('\u00e9')"), "é");
  EXPECT_EQ(Decoded(R"('\u9e45')"), "鹅");
  EXPECT_EQ(Decoded(R"('\U0001F30D')"), "🌍");
  EXPECT_EQ(Decoded(R"('\U0010FFFF')"), "\xF4\x8F\xBF\xBF");
  EXPECT_EQ(Decoded(R"('a\u0020b')"), "a b");
}

TEST(PythonLiteralTest, BytesEscapesAreRawBytes) {
  EXPECT_EQ(Decoded(R"(b'\xe9')"), "\xE9");
  EXPECT_EQ(Decoded(R"(b'\xff\x00A')"), std::string("\xFF\0A", 3));
  EXPECT_EQ(Decoded(R"(B"\377")"), "\xFF");
  EXPECT_EQ(Decoded(R"(b'\0')"), std::string(1, '\0'));
  // \u, \U and \N are not escapes in bytes: the backslash stays.
  EXPECT_EQ(Decoded(R"(b'\u1234')"), "\\u1234");
  EXPECT_EQ(Decoded(R"(b'\N')"), "\\N");
}

TEST(PythonLiteralTest, UnknownEscapesKeepTheBackslash) {
  EXPECT_EQ(Decoded(R"('\$')"), "\\$");
  EXPECT_EQ(Decoded(R"('\8\9')"), "\\8\\9");
  EXPECT_EQ(Decoded(R"('\(\)')"), "\\(\\)");
  EXPECT_EQ(Decoded(R"('\é')"), "\\é");
  EXPECT_EQ(Decoded(R"('\\$')"), "\\$");
}

TEST(PythonLiteralTest, RejectsMalformedLiterals) {
  ExpectRejected("", "expected a quoted");
  ExpectRejected("abc", "expected a quoted");
  ExpectRejected("r'abc'", "expected a quoted");
  ExpectRejected("b", "expected a quoted");
  ExpectRejected("'", "unterminated");
  ExpectRejected("'abc", "unterminated");
  ExpectRejected("'abc\"", "unterminated");
  ExpectRejected(R"('abc\')", "unterminated");
  ExpectRejected("'a'b'", "unescaped quote");
  ExpectRejected("'''a'''", "unescaped quote");
  ExpectRejected("'a\nb'", "line break");
  ExpectRejected(R"('\x4')", "\\xHH");
  ExpectRejected(R"('\xg0')", "\\xHH");
  ExpectRejected(R"('\u12')", "\\uXXXX");
  ExpectRejected(R"('\U0001F30')", "\\UXXXXXXXX");
  ExpectRejected(R"('\U00110000')", "U+10FFFF");
  ExpectRejected(R"('\ud800')", "surrogate");
  ExpectRejected(R"('\N{BULLET}')", "\\N{name}");
  ExpectRejected(R"(b'\400')", "octal");
  ExpectRejected("b'\xC3\xA9'", "non-ASCII");
  ExpectRejected("'\xE9'", "invalid UTF-8");          // a Latin-1 byte, not UTF-8
  ExpectRejected("'\xC0\xAF'", "invalid UTF-8");      // overlong
  ExpectRejected("'\xED\xA0\x80'", "invalid UTF-8");  // encoded surrogate
  ExpectRejected("'\xF0\x9F\x8C'", "invalid UTF-8");  // truncated sequence
}

}  // namespace
}  // namespace anser
