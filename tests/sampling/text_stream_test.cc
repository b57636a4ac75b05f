#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "anser/sampler.h"

namespace anser {
namespace {

TEST(TextStreamTest, AsciiPassesStraightThrough) {
  TextStream stream;
  EXPECT_EQ(stream.Push("Hello, "), "Hello, ");
  EXPECT_EQ(stream.Push("world"), "world");
  EXPECT_EQ(stream.Flush(), "");
  EXPECT_FALSE(stream.stopped());
}

TEST(TextStreamTest, TwoByteCharacterSplitAcrossPushes) {
  TextStream stream;
  EXPECT_EQ(stream.Push("caf\xC3"), "caf");  // é = C3 A9
  EXPECT_EQ(stream.Push("\xA9!"), "\xC3\xA9!");
}

TEST(TextStreamTest, ThreeByteCharacterOneByteAtATime) {
  TextStream stream;
  EXPECT_EQ(stream.Push("\xE2"), "");  // € = E2 82 AC
  EXPECT_EQ(stream.Push("\x82"), "");
  EXPECT_EQ(stream.Push("\xAC"), "\xE2\x82\xAC");
}

TEST(TextStreamTest, EmojiOneByteAtATime) {
  TextStream stream;
  const std::string emoji = "\xF0\x9F\x98\x80";  // U+1F600
  std::string out;
  for (size_t i = 0; i < emoji.size(); ++i) {
    const std::string piece = stream.Push(emoji.substr(i, 1));
    if (i + 1 < emoji.size()) {
      EXPECT_EQ(piece, "") << i;
    }
    out += piece;
  }
  EXPECT_EQ(out, emoji);
}

TEST(TextStreamTest, EmojiSplitTwoAndTwoAfterText) {
  TextStream stream;
  EXPECT_EQ(stream.Push("hi \xF0\x9F"), "hi ");
  EXPECT_EQ(stream.Push("\x98\x80 there"), "\xF0\x9F\x98\x80 there");
}

TEST(TextStreamTest, BytesThatCanNeverCompleteAreReleased) {
  TextStream stream;
  EXPECT_EQ(stream.Push("\xFF"), "\xFF");          // never valid in UTF-8
  EXPECT_EQ(stream.Push("\x80"), "\x80");          // stray continuation byte
  EXPECT_EQ(stream.Push("\xC0"), "\xC0");          // overlong lead
  EXPECT_EQ(stream.Push("\xE0\x80"), "\xE0\x80");  // overlong three-byte start
  EXPECT_EQ(stream.Push("\xED\xA0"), "\xED\xA0");  // surrogate
  EXPECT_EQ(stream.Push("\xF4\x90"), "\xF4\x90");  // above U+10FFFF
  EXPECT_EQ(stream.Push("\xC3"
                        "A"),
            "\xC3"
            "A");  // lead cut off by ASCII
}

TEST(TextStreamTest, HeldLeadReleasedWhenNextByteBreaksIt) {
  TextStream stream;
  EXPECT_EQ(stream.Push("\xE2"), "");
  EXPECT_EQ(stream.Push("x"), "\xE2x");
  EXPECT_EQ(stream.Push("\xE2\x82\xAC\xAC"), "\xE2\x82\xAC\xAC");  // one continuation too many
}

TEST(TextStreamTest, StopStringSpanningPushes) {
  TextStream stream({"</s>"});
  EXPECT_EQ(stream.Push("Hello <"), "Hello ");
  EXPECT_EQ(stream.Push("/"), "");
  EXPECT_EQ(stream.Push("s>tail"), "");
  EXPECT_TRUE(stream.stopped());
  EXPECT_EQ(stream.Push("more"), "");
  EXPECT_EQ(stream.Flush(), "");
}

TEST(TextStreamTest, HeldPrefixReleasedWhenItDiverges) {
  TextStream stream({"</s>"});
  EXPECT_EQ(stream.Push("a </"), "a ");
  EXPECT_EQ(stream.Push("b>"), "</b>");
  EXPECT_FALSE(stream.stopped());
}

TEST(TextStreamTest, StopAtTheVeryStart) {
  TextStream stream({"\n\nUser:"});
  EXPECT_EQ(stream.Push("\n\nUser: hi"), "");
  EXPECT_TRUE(stream.stopped());
}

TEST(TextStreamTest, EarliestOfSeveralStopsWins) {
  TextStream stream({"User:", "Bot:"});
  EXPECT_EQ(stream.Push("Hi Bot: x User:"), "Hi ");
  EXPECT_TRUE(stream.stopped());
}

TEST(TextStreamTest, HoldsLongestPrefixOfAnyStop) {
  TextStream stream({"abc", "bx"});
  EXPECT_EQ(stream.Push("zab"), "z");  // "ab" may become "abc", "b" may become "bx"
  EXPECT_EQ(stream.Push("x"), "a");    // "bx" completed
  EXPECT_TRUE(stream.stopped());
}

TEST(TextStreamTest, MultiByteStopSplitInsideACharacter) {
  TextStream stream({"\xE3\x80\x82"});                             // 。
  EXPECT_EQ(stream.Push("\xE5\xA5\xBD\xE3\x80"), "\xE5\xA5\xBD");  // 好 then half of 。
  EXPECT_EQ(stream.Push("\x82"
                        "after"),
            "");
  EXPECT_TRUE(stream.stopped());
}

TEST(TextStreamTest, FlushReturnsHeldBytes) {
  TextStream stream({"</s>"});
  EXPECT_EQ(stream.Push("abc</"), "abc");
  EXPECT_EQ(stream.Flush(), "</");
  EXPECT_EQ(stream.Flush(), "");

  TextStream utf8;
  EXPECT_EQ(utf8.Push("\xE2\x82"), "");
  EXPECT_EQ(utf8.Flush(), "\xE2\x82");
  EXPECT_FALSE(utf8.stopped());
}

TEST(TextStreamTest, EmptyStopStringIsIgnored) {
  TextStream stream({""});
  EXPECT_EQ(stream.Push("abc"), "abc");
  EXPECT_FALSE(stream.stopped());
}

}  // namespace
}  // namespace anser
