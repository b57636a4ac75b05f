// Token masks: the cached, trie-walking mask must equal the plain per-token check at every
// position (World vocabulary, grammars with recursion), tokens that cross rule, literal and UTF-8
// character boundaries, and the sampling adapter.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <thread>
#include <vector>

#include "anser/grammar.h"
#include "anser/sampler.h"
#include "anser/tokenizer.h"
#include "grammar_test_util.h"
#include "sampling/draw_weights.h"

namespace anser {
namespace {

std::shared_ptr<const GrammarVocabulary> WorldVocabulary() {
  static const std::shared_ptr<const GrammarVocabulary> vocabulary = [] {
    auto tokenizer =
        LoadWorldTokenizer(std::string(ANSER_SHARED_DIR) + "/vocab/rwkv_vocab_v20230424.txt");
    EXPECT_TRUE(tokenizer.ok()) << tokenizer.message();
    return GrammarVocabulary::FromTokenizer(**tokenizer, 65536);
  }();
  return vocabulary;
}

std::shared_ptr<const CompiledGrammar> Compile(const std::string& gbnf,
                                               std::shared_ptr<const GrammarVocabulary> vocab) {
  auto compiled = CompiledGrammar::FromGbnf(gbnf, std::move(vocab));
  EXPECT_TRUE(compiled.ok()) << compiled.message();
  return *compiled;
}

std::vector<int> AllowedIds(const TokenMask& mask) {
  std::vector<int> ids;
  for (int t = 0; t < mask.size(); ++t) {
    if (mask.Allowed(t)) ids.push_back(t);
  }
  return ids;
}

// At the position after each of `prefixes` (fed as bytes), the mask equals the tokens
// IsTokenAllowed accepts one by one, and every allowed token really advances the matcher.
void ExpectMaskMatchesPerTokenCheck(const std::shared_ptr<const CompiledGrammar>& grammar,
                                    const std::vector<std::string>& prefixes) {
  for (const std::string& prefix : prefixes) {
    GrammarMatcher matcher(grammar);
    ASSERT_TRUE(matcher.AcceptBytes(prefix)) << prefix;
    TokenMask mask;
    matcher.FillNextTokenMask(&mask);
    ASSERT_EQ(mask.size(), grammar->vocabulary().size());
    int mismatches = 0;
    for (int t = 0; t < mask.size() && mismatches < 5; ++t) {
      const bool allowed = matcher.IsTokenAllowed(t);
      if (mask.Allowed(t) != allowed) {
        ++mismatches;
        ADD_FAILURE() << "after \"" << prefix << "\": token " << t << " \""
                      << grammar->vocabulary().TokenBytes(t) << "\" mask " << mask.Allowed(t)
                      << " per-token " << allowed;
      }
    }
    EXPECT_GT(mask.Count(), 0) << prefix;
  }
}

const char kJsonLike[] = R"(root ::= " "? value
value ::= object | array | string | number | "true" | "false" | "null"
object ::= "{" ws ( string ws ":" ws value ws ( "," ws string ws ":" ws value ws )* )? "}"
array ::= "[" ws ( value ws ( "," ws value ws )* )? "]"
string ::= "\"" ( [^"\\\x00-\x1F] | "\\" ["\\/bfnrtu] )* "\""
number ::= "-"? [0-9]+ ( "." [0-9]+ )?
ws ::= [ \t\n]{0,4})";

TEST(MaskTest, WorldVocabularyRecursiveGrammarMatchesPerTokenCheck) {
  auto g = Compile(kJsonLike, WorldVocabulary());
  ExpectMaskMatchesPerTokenCheck(
      g, {"", " ", "{", "{\"a", "{\"a\":", "{\"a\": [", "{\"a\": [1", "{\"a\": [1, {\"b\": \"x",
          "[[[\"", "[[[\"\\", "[[[1.5", "[{}, [tr", "{\"k\": {\"k\": {\"k\": 12"});
}

TEST(MaskTest, ArithmeticWithDeepNestingMatchesPerTokenCheck) {
  auto g = Compile(R"G(root ::= expr
expr ::= term (("+" | "-") term)*
term ::= factor (("*" | "/") factor)*
factor ::= [0-9]+ | "(" expr ")")G",
                   WorldVocabulary());
  ExpectMaskMatchesPerTokenCheck(g, {"", "(", "((((", "((1+2)*3", "(((4", "1+(2"});
}

TEST(MaskTest, TokenZeroExactlyWhereTheGrammarCanEnd) {
  auto g = Compile(R"(root ::= [0-9]+ ("." [0-9]+)?)", WorldVocabulary());
  GrammarMatcher m(g);
  TokenMask mask;
  m.FillNextTokenMask(&mask);
  EXPECT_FALSE(mask.Allowed(0));
  ASSERT_TRUE(m.AcceptBytes("12"));
  m.FillNextTokenMask(&mask);
  EXPECT_TRUE(mask.Allowed(0));
  ASSERT_TRUE(m.AcceptBytes("."));
  m.FillNextTokenMask(&mask);
  EXPECT_FALSE(mask.Allowed(0));
}

TEST(MaskTest, LiteralSplitAcrossTokens) {
  auto vocab = testing::ByteVocabulary({"hel", "lo w", "orld", "hello world!", "world", "xhel"});
  auto g = Compile(R"(root ::= "hello world")", vocab);
  GrammarMatcher m(g);
  TokenMask mask;
  m.FillNextTokenMask(&mask);
  EXPECT_EQ(AllowedIds(mask), (std::vector<int>{'h', 256}));  // "h", "hel"
  ASSERT_TRUE(m.AcceptToken(256));
  m.FillNextTokenMask(&mask);
  EXPECT_EQ(AllowedIds(mask), (std::vector<int>{'l', 257}));  // "l", "lo w"
  ASSERT_TRUE(m.AcceptToken(257));
  m.FillNextTokenMask(&mask);
  EXPECT_EQ(AllowedIds(mask), (std::vector<int>{'o', 258}));  // "o", "orld"
  EXPECT_FALSE(m.AcceptToken(260));                           // "world" does not fit
  ASSERT_TRUE(m.AcceptToken(258));
  EXPECT_TRUE(m.IsComplete());
  m.FillNextTokenMask(&mask);
  EXPECT_EQ(AllowedIds(mask), (std::vector<int>{0}));
}

TEST(MaskTest, MultiByteCharactersSplitAcrossTokens) {
  // é = C3 A9; tokens that end inside it and tokens that start inside it.
  auto vocab = testing::ByteVocabulary({"a\xC3",
                                        "\xA9"
                                        "b",
                                        "\xA9\"", "\"\xC3"});
  auto g = Compile(R"(root ::= "\"" [^"]* "\"")", vocab);
  GrammarMatcher m(g);
  ASSERT_TRUE(m.AcceptToken(259));  // "\xC3 opens the string and half a character
  TokenMask mask;
  m.FillNextTokenMask(&mask);
  // Only continuation bytes 80–BF, and the tokens starting with A9.
  for (int t : AllowedIds(mask)) {
    const std::string_view bytes = vocab->TokenBytes(t);
    ASSERT_FALSE(bytes.empty());
    const auto first = static_cast<unsigned char>(bytes[0]);
    EXPECT_TRUE(first >= 0x80 && first <= 0xBF) << t;
  }
  EXPECT_TRUE(mask.Allowed(257));
  EXPECT_TRUE(mask.Allowed(258));
  EXPECT_EQ(mask.Count(), 64 + 2);
  ASSERT_TRUE(m.AcceptToken(258));  // A9 " closes the character and the string
  EXPECT_TRUE(m.IsComplete());
}

TEST(MaskTest, OnlyWayForwardEndsInsideACharacter) {
  // "€" (E2 82 AC) can only be written as "\xE2\x82" then "\xAC".
  std::vector<std::string> tokens = {"", "\xE2\x82", "\xAC", "x", "\xE2"};
  auto vocab = std::make_shared<const GrammarVocabulary>(tokens);
  auto g = Compile(R"(root ::= "€" | "x€")", vocab);
  GrammarMatcher m(g);
  TokenMask mask;
  m.FillNextTokenMask(&mask);
  EXPECT_EQ(AllowedIds(mask), (std::vector<int>{1, 3, 4}));
  ASSERT_TRUE(m.AcceptToken(1));
  m.FillNextTokenMask(&mask);
  EXPECT_EQ(AllowedIds(mask), (std::vector<int>{2}));
  ASSERT_TRUE(m.AcceptToken(2));
  EXPECT_TRUE(m.IsComplete());
}

TEST(MaskTest, TokensCrossingSeveralRuleEnds) {
  // "]]]," closes three recursive frames and continues in the fourth.
  auto vocab = testing::ByteVocabulary({"]]],", "]]]]]", "]],[", "1]]"});
  auto g = Compile(R"(root ::= list
list ::= "[" (item ("," item)*)? "]"
item ::= "1" | list)",
                   vocab);
  GrammarMatcher m(g);
  ASSERT_TRUE(m.AcceptBytes("[[[[1"));
  TokenMask mask;
  m.FillNextTokenMask(&mask);
  EXPECT_TRUE(mask.Allowed(256));   // ]]], : back in the outermost list, which takes a comma
  EXPECT_FALSE(mask.Allowed(257));  // ]]]]] closes one list too many
  EXPECT_TRUE(mask.Allowed(258));   // ]],[
  ExpectMaskMatchesPerTokenCheck(g, {"[[[[1", "[[[", "[1,[1]", "[[1]]"});
}

TEST(MaskTest, CopiesAdvanceIndependently) {
  auto g = Compile(R"(root ::= "a" ("b" | "c") "d")", testing::ByteVocabulary());
  GrammarMatcher first(g);
  ASSERT_TRUE(first.AcceptBytes("a"));
  GrammarMatcher second = first;
  ASSERT_TRUE(first.AcceptBytes("b"));
  ASSERT_TRUE(second.AcceptBytes("c"));
  EXPECT_FALSE(first.IsTokenAllowed('c'));
  EXPECT_TRUE(first.IsTokenAllowed('d'));
  EXPECT_TRUE(second.AcceptBytes("d"));
  EXPECT_TRUE(second.IsComplete());
  EXPECT_FALSE(first.IsComplete());
}

TEST(MaskTest, ThreadsSharingOneGrammarGetTheSameMasks) {
  // Caches fill on first use under the grammar's lock; four threads race through the same
  // positions of a fresh grammar and must all see what one thread sees.
  const std::string doc = "{\"k\": [1, {\"s\": \"x\\ny\"}, [true, null]], \"z\": -2.5}";
  auto reference = Compile(kJsonLike, WorldVocabulary());
  std::vector<std::vector<uint64_t>> expected;
  {
    GrammarMatcher m(reference);
    TokenMask mask;
    for (const char c : doc) {
      m.FillNextTokenMask(&mask);
      expected.emplace_back(mask.words().begin(), mask.words().end());
      ASSERT_TRUE(m.AcceptBytes(std::string(1, c)));
    }
  }
  auto shared = Compile(kJsonLike, WorldVocabulary());
  std::vector<int> mismatches(4, 0);
  std::vector<std::thread> threads;
  for (int k = 0; k < 4; ++k) {
    threads.emplace_back([&, k] {
      GrammarMatcher m(shared);
      TokenMask mask;
      for (size_t i = 0; i < doc.size(); ++i) {
        m.FillNextTokenMask(&mask);
        if (!std::equal(expected[i].begin(), expected[i].end(), mask.words().begin()))
          ++mismatches[k];
        m.AcceptBytes(doc.substr(i, 1));
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(mismatches, std::vector<int>(4, 0));
}

TEST(MaskTest, ApplyTokenMaskForbidsExactlyTheMaskedTokens) {
  TokenMask mask(130);
  for (int t : {0, 5, 63, 64, 127, 129}) mask.Allow(t);
  std::vector<float> logits(130, 1.5f);
  ApplyTokenMask(mask, logits);
  for (int t = 0; t < 130; ++t) {
    EXPECT_EQ(std::isinf(logits[t]) && logits[t] < 0, !mask.Allowed(t)) << t;
  }
}

TEST(MaskTest, ConstrainedDistributionIsTheModelsRenormalisedOverAllowedTokens) {
  // The masked logits give the same draw weights as the allowed tokens' logits alone, with
  // top-k, top-p, min-p and temperature all applied.
  const int n = 200;
  std::vector<float> logits(n);
  for (int t = 0; t < n; ++t) logits[t] = std::sin(0.37f * t) * 3.0f;
  TokenMask mask(n);
  std::vector<float> allowed_logits;
  for (int t = 0; t < n; t += 3) {
    mask.Allow(t);
    allowed_logits.push_back(logits[t]);
  }
  SamplerOptions options;
  options.temperature = 0.7f;
  options.top_p = 0.8f;
  options.top_k = 20;
  options.min_p = 0.05f;
  std::vector<float> masked = logits;
  ApplyTokenMask(mask, masked);
  std::vector<float> weights(n);
  std::vector<int> order(n);
  const double total = sampling::ComputeDrawWeights(masked, options, weights, order);
  const size_t m = allowed_logits.size();
  std::vector<float> expected(m);
  std::vector<int> order_m(m);
  const double expected_total =
      sampling::ComputeDrawWeights(allowed_logits, options, expected, order_m);
  EXPECT_DOUBLE_EQ(total, expected_total);
  for (int t = 0; t < n; ++t) {
    if (t % 3 == 0) {
      EXPECT_EQ(weights[t], expected[t / 3]) << t;
    } else {
      EXPECT_EQ(weights[t], 0.0f) << t;
    }
  }
}

}  // namespace
}  // namespace anser
