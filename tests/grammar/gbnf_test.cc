// The GBNF notation, construct by construct: which strings each grammar accepts, checked against
// hand-written expectations; and the parser's errors.
#include <gtest/gtest.h>

#include <string>

#include "anser/grammar.h"
#include "grammar_test_util.h"

namespace anser {
namespace {

using testing::ByteVocabulary;
using testing::IsPrefix;
using testing::Matches;

std::shared_ptr<const CompiledGrammar> Compile(const std::string& gbnf) {
  auto compiled = CompiledGrammar::FromGbnf(gbnf, ByteVocabulary());
  EXPECT_TRUE(compiled.ok()) << compiled.message() << "\n" << gbnf;
  return compiled.ok() ? *compiled : nullptr;
}

std::string CompileError(const std::string& gbnf) {
  auto compiled = CompiledGrammar::FromGbnf(gbnf, ByteVocabulary());
  EXPECT_FALSE(compiled.ok()) << gbnf;
  return compiled.ok() ? "" : compiled.message();
}

TEST(GbnfTest, LiteralsAndSequences) {
  auto g = Compile(R"(root ::= "ab" "c" x
x ::= "d")");
  EXPECT_TRUE(Matches(g, "abcd"));
  EXPECT_FALSE(Matches(g, "abc"));
  EXPECT_TRUE(IsPrefix(g, "abc"));
  EXPECT_FALSE(Matches(g, "abcde"));
  EXPECT_FALSE(IsPrefix(g, "abd"));
  EXPECT_FALSE(Matches(g, ""));
}

TEST(GbnfTest, Alternatives) {
  auto g = Compile(R"(root ::= "cat" | "car" | "dog" |
  "")");
  for (const char* s : {"cat", "car", "dog", ""}) EXPECT_TRUE(Matches(g, s)) << s;
  for (const char* s : {"ca", "cart", "do", "x"}) EXPECT_FALSE(Matches(g, s)) << s;
}

TEST(GbnfTest, GroupsAndRepetitions) {
  auto g = Compile(R"(root ::= ("a" | "b")* "c"+ "d"? "e"{2} "f"{1,2} "g"{2,} "h"{,1})");
  EXPECT_TRUE(Matches(g, "ceefgg"));
  EXPECT_TRUE(Matches(g, "abbaccdeeffgggh"));
  EXPECT_FALSE(Matches(g, "eefgg"));     // c+ needs one
  EXPECT_FALSE(Matches(g, "ceeefgg"));   // e{2} exactly
  EXPECT_FALSE(Matches(g, "ceefffgg"));  // f{1,2}
  EXPECT_FALSE(Matches(g, "ceefg"));     // g{2,}
  EXPECT_FALSE(Matches(g, "ceefgghh"));  // h{,1}
  EXPECT_FALSE(Matches(g, "cddeefgg"));  // d?
}

TEST(GbnfTest, NestedRepetitionOfNullableGroup) {
  auto g = Compile(R"(root ::= ("a"? "b"?)* "x")");
  EXPECT_TRUE(Matches(g, "x"));
  EXPECT_TRUE(Matches(g, "abbax"));
  EXPECT_FALSE(Matches(g, "abc"));
}

TEST(GbnfTest, CharacterClasses) {
  auto g = Compile(R"(root ::= [a-c0-9_] [^a-z] [\]\-] [-x] [é-ë])");
  EXPECT_TRUE(Matches(g, "a!]-é"));
  EXPECT_TRUE(Matches(g, "_Z-xë"));
  EXPECT_TRUE(Matches(g, "9\xE4\xB8\x80]x\xC3\xAA"));  // 一 is not a-z; ê
  EXPECT_FALSE(Matches(g, "dZ]xé"));
  EXPECT_FALSE(Matches(g, "aa]xé"));
  EXPECT_FALSE(Matches(g, "aZ]xè"));  // è is below é
  EXPECT_FALSE(Matches(g, "aZ]xì"));  // above ë
}

TEST(GbnfTest, NegatedClassMatchesWholeUtf8Characters) {
  auto g = Compile(R"(root ::= [^"]+)");
  EXPECT_TRUE(Matches(g, "h\xC3\xA9llo \xF0\x9F\x98\x80"));
  EXPECT_TRUE(IsPrefix(g, "\xF0\x9F"));       // inside a 4-byte character
  EXPECT_FALSE(Matches(g, "\xF0\x9F"));       // but not complete there
  EXPECT_FALSE(IsPrefix(g, "\xC3\x28"));      // invalid continuation
  EXPECT_FALSE(IsPrefix(g, "\xED\xA0\x80"));  // a surrogate is not a character
  EXPECT_FALSE(IsPrefix(g, "\xC0\xAF"));      // overlong
  EXPECT_FALSE(IsPrefix(g, "a\"b"));
}

TEST(GbnfTest, AnyCharacter) {
  auto g = Compile(R"(root ::= "<" . ">")");
  EXPECT_TRUE(Matches(g, "<x>"));
  EXPECT_TRUE(Matches(g, "<\xE2\x82\xAC>"));  // €
  EXPECT_FALSE(Matches(g, "<>"));
  EXPECT_FALSE(Matches(g, "<ab>"));
}

TEST(GbnfTest, EscapesInLiteralsAndClasses) {
  auto g = Compile(R"(root ::= "\"\\\n\t\r\x41\u00e9\U0001F600" [\x00-\x08])");
  std::string text = "\"\\\n\t\rA\xC3\xA9\xF0\x9F\x98\x80";
  EXPECT_TRUE(Matches(g, text + std::string(1, '\0')));
  EXPECT_TRUE(Matches(g, text + "\x08"));
  EXPECT_FALSE(Matches(g, text + "\x09"));
}

TEST(GbnfTest, CommentsAndLayout) {
  auto g = Compile(R"(# a comment line
root ::= item ( "," # after a comma
  item )*   # trailing
item ::=
  [0-9]+

)");
  EXPECT_TRUE(Matches(g, "1,22,333"));
  EXPECT_FALSE(Matches(g, "1,"));
}

TEST(GbnfTest, RecursionBalancedParentheses) {
  auto g = Compile(R"G(root ::= expr
expr ::= term (("+" | "-") term)*
term ::= factor (("*" | "/") factor)*
factor ::= [0-9]+ | "(" expr ")")G");
  for (const char* s : {"1", "1+2*3", "(1+2)*3", "((((7))))", "2*(3-(4/5))"}) {
    EXPECT_TRUE(Matches(g, s)) << s;
  }
  for (const char* s : {"", "(", "1+", "(1+2", "1+2)", "()", "1++2"})
    EXPECT_FALSE(Matches(g, s)) << s;
  EXPECT_TRUE(IsPrefix(g, "((((1+"));
}

TEST(GbnfTest, NullableRecursiveRule) {
  auto g = Compile(R"(root ::= list "."
list ::= "" | "x" list)");
  EXPECT_TRUE(Matches(g, "."));
  EXPECT_TRUE(Matches(g, "xxx."));
  EXPECT_FALSE(Matches(g, "xx"));
}

TEST(GbnfTest, RootChoiceAndCompletion) {
  auto compiled = CompiledGrammar::FromGbnf("start ::= \"a\" [b]?", ByteVocabulary(), "start");
  ASSERT_TRUE(compiled.ok()) << compiled.message();
  GrammarMatcher m(*compiled);
  EXPECT_FALSE(m.CanEnd());
  ASSERT_TRUE(m.AcceptBytes("a"));
  EXPECT_TRUE(m.CanEnd());
  EXPECT_FALSE(m.IsComplete());  // "b" may still come
  ASSERT_TRUE(m.AcceptBytes("b"));
  EXPECT_TRUE(m.IsComplete());
  EXPECT_FALSE(m.AcceptBytes("b"));
  EXPECT_TRUE(m.AcceptToken(0));
  EXPECT_TRUE(m.IsComplete());
  EXPECT_FALSE(m.AcceptToken(0));
}

TEST(GbnfTest, ErrorsGiveLineAndColumn) {
  EXPECT_EQ(CompileError("root ::= \"a\"\nx ::= \"b\" )"),
            "[grammar] line 2, column 11: unexpected ')' (expected '|', an element or the end of "
            "the line)");
  EXPECT_EQ(CompileError("root ::= foo"),
            "[grammar] line 1, column 10: rule 'foo' is used but never defined");
  EXPECT_EQ(CompileError("root ::= \"abc"),
            "[grammar] line 1, column 14: unterminated string literal");
  EXPECT_EQ(CompileError("root ::= [a-"),
            "[grammar] line 1, column 13: unexpected end of the grammar");
  EXPECT_EQ(
      CompileError("root ::= \"\\q\""),
      "[grammar] line 1, column 13: unknown escape '\\q' (known: \\n \\r \\t \\\\ \\\" \\[ \\] \\- "
      "\\xHH \\uHHHH \\UHHHHHHHH)");
  EXPECT_EQ(CompileError("root ::= \"a\"{3,2}"),
            "[grammar] line 1, column 17: repetition {m,n} needs m <= n");
  EXPECT_EQ(CompileError("rot ::= \"a\""),
            "[grammar] no rule named 'root': the grammar starts there (define `root ::= …`)");
  EXPECT_EQ(CompileError("root ::= \"a\"\nroot ::= \"b\""),
            "[grammar] line 2, column 1: rule 'root' is defined twice (first on line 1)");
  EXPECT_EQ(CompileError("root ::= [z-a]"),
            "[grammar] line 1, column 14: character range with its end below its start");
  EXPECT_EQ(CompileError("root ::= ::="), "[grammar] line 1, column 10: unexpected ':'");
}

TEST(GbnfTest, LeftRecursionAndEndlessRulesAreErrors) {
  EXPECT_EQ(CompileError("root ::= expr\nexpr ::= expr \"+\" \"1\" | \"1\""),
            "[grammar] line 2, column 1: rule 'expr' is left-recursive: it can reach itself before "
            "reading a character (rewrite `a ::= a x | y` as `a ::= y x*`)");
  // Through a nullable prefix.
  EXPECT_NE(
      CompileError("root ::= a\na ::= b a \"x\" | \"y\"\nb ::= \"z\"?").find("left-recursive"),
      std::string::npos);
  EXPECT_EQ(
      CompileError("root ::= a\na ::= \"x\" a"),
      "[grammar] line 2, column 1: rule 'a' can never finish: every alternative refers back to "
      "it (add an alternative without the recursion)");
}

}  // namespace
}  // namespace anser
