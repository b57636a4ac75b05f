#include "tokenizer/world_vocab.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

namespace anser {
namespace {

// Lines 1-256: the single bytes, written as bytes literals.
std::string ByteLines() {
  std::string text;
  for (int b = 0; b < 256; ++b) {
    char line[32];
    std::snprintf(line, sizeof(line), "%d b'\\x%02x' 1\n", b + 1, b);
    text += line;
  }
  return text;
}

void ExpectError(const std::string& text, std::string_view expected) {
  Result<WorldVocab> vocab = ParseWorldVocab(text, "test_vocab.txt");
  ASSERT_FALSE(vocab.ok());
  EXPECT_NE(vocab.message().find(expected), std::string::npos) << vocab.message();
}

TEST(WorldVocabTest, ParsesBytesStrAndSpaces) {
  Result<WorldVocab> vocab = ParseWorldVocab(
      ByteLines() + "257 'the' 3\n300 ' ' 1\n301 '  x ' 4\r\n\n302 '\\xe9t\\u00e9' 5\n",
      "test_vocab.txt");
  ASSERT_TRUE(vocab.ok()) << vocab.message();
  ASSERT_EQ(vocab->tokens.size(), 303u);
  EXPECT_EQ(vocab->tokens[0], "");
  EXPECT_EQ(vocab->tokens[1], std::string(1, '\0'));
  EXPECT_EQ(vocab->tokens[256], "\xFF");
  EXPECT_EQ(vocab->tokens[257], "the");
  EXPECT_EQ(vocab->tokens[258], "");  // ids left out stay empty
  EXPECT_EQ(vocab->tokens[300], " ");
  EXPECT_EQ(vocab->tokens[301], "  x ");
  EXPECT_EQ(vocab->tokens[302], "\xC3\xA9t\xC3\xA9");
}

TEST(WorldVocabTest, RejectsLengthMismatchWithLineNumber) {
  ExpectError(ByteLines() + "257 'ab' 2\n258 '\\xe9' 1\n", "test_vocab.txt:258:");
  ExpectError(ByteLines() + "257 '\\xe9' 1\n", "is 2 bytes, but its line says 1");
  ExpectError(ByteLines() + "257 b'\\xe9' 2\n", "is 1 bytes, but its line says 2");
}

TEST(WorldVocabTest, RejectsMalformedLines) {
  ExpectError("1 b'\\x00'\n", "test_vocab.txt:1: expected `ID REPR LEN`");
  ExpectError("1\n", "test_vocab.txt:1: expected `ID REPR LEN`");
  ExpectError(ByteLines() + "x 'a' 1\n", ":257: token id must be a number");
  ExpectError(ByteLines() + "0 'a' 1\n", ":257: token id must be a number");
  ExpectError(ByteLines() + "-3 'a' 1\n", ":257: token id must be a number");
  ExpectError(ByteLines() + "99999999999 'a' 1\n", ":257: token id must be a number");
  ExpectError(ByteLines() + "257 'a' one\n", ":257: byte length must be a number");
  ExpectError(ByteLines() + "257 'a 1\n", ":257: unterminated");
  ExpectError(ByteLines() + "257 a 1\n", ":257: expected a quoted");
  ExpectError(ByteLines() + "257 '' 0\n", ":257: token 257 is empty");
  ExpectError(ByteLines() + "257 'a' 1\n257 'b' 1\n",
              ":258: token id 257 already defined on line 257");
}

TEST(WorldVocabTest, RequiresEverySingleByte) {
  std::string text = ByteLines();
  text.replace(text.find("66 b'\\x41' 1"), 12, "66 b'AB' 2");
  ExpectError(text, "no token for the single byte 0x41");
}

TEST(WorldVocabTest, ReadsFilesAndNamesThemInErrors) {
  const auto dir = std::filesystem::temp_directory_path() /
                   ("anser_world_vocab_test_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string good = (dir / "good.txt").string();
  const std::string bad = (dir / "bad.txt").string();
  std::ofstream(good) << ByteLines() << "257 'ok' 2\n";
  std::ofstream(bad) << ByteLines() << "257 'ok' 3\n";

  Result<WorldVocab> vocab = ReadWorldVocab(good);
  ASSERT_TRUE(vocab.ok()) << vocab.message();
  EXPECT_EQ(vocab->tokens[257], "ok");

  vocab = ReadWorldVocab(bad);
  ASSERT_FALSE(vocab.ok());
  EXPECT_NE(vocab.message().find(bad + ":257:"), std::string::npos) << vocab.message();

  const std::string missing = (dir / "missing.txt").string();
  vocab = ReadWorldVocab(missing);
  ASSERT_FALSE(vocab.ok());
  EXPECT_NE(vocab.message().find("cannot open vocabulary file " + missing), std::string::npos)
      << vocab.message();

  vocab = ReadWorldVocab(dir.string());
  EXPECT_FALSE(vocab.ok());
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace anser
