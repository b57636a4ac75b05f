#include "tokenizer/world_tokenizer.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <string>
#include <unordered_map>
#include <vector>

#include "anser/tokenizer.h"

namespace anser {
namespace {

const std::filesystem::path kShared = ANSER_SHARED_DIR;

// The 65536-token vocabulary takes a noticeable time to load under sanitizers, so the suite
// loads it once for all its tests.
class WorldTokenizerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    Result<std::unique_ptr<Tokenizer>> loaded =
        LoadWorldTokenizer((kShared / "vocab/rwkv_vocab_v20230424.txt").string());
    ASSERT_TRUE(loaded.ok()) << loaded.message();
    tokenizer_ = std::move(loaded).value().release();
    by_bytes_ = new std::unordered_map<std::string_view, int>;
    for (int id = 0; id < tokenizer_->vocab_size(); ++id) {
      if (!tokenizer_->TokenBytes(id).empty()) by_bytes_->emplace(tokenizer_->TokenBytes(id), id);
    }
  }
  static void TearDownTestSuite() {
    delete by_bytes_;
    by_bytes_ = nullptr;
    delete tokenizer_;
    tokenizer_ = nullptr;
  }
  void SetUp() override { ASSERT_NE(tokenizer_, nullptr); }

  static std::string RoundTrip(std::string_view text) {
    Result<std::string> decoded = tokenizer_->Decode(tokenizer_->Encode(text));
    EXPECT_TRUE(decoded.ok()) << decoded.message();
    return decoded.ok() ? decoded.value() : std::string();
  }

  // Greedy longest match written the slow, obvious way: the oracle for the trie.
  static std::vector<int> ReferenceEncode(std::string_view text) {
    std::vector<int> ids;
    size_t pos = 0;
    while (pos < text.size()) {
      for (size_t length = std::min<size_t>(128, text.size() - pos); length > 0; --length) {
        const auto it = by_bytes_->find(text.substr(pos, length));
        if (it != by_bytes_->end()) {
          ids.push_back(it->second);
          pos += length;
          break;
        }
      }
    }
    return ids;
  }

  static Tokenizer* tokenizer_;
  static std::unordered_map<std::string_view, int>* by_bytes_;  // token bytes -> id
};

Tokenizer* WorldTokenizerTest::tokenizer_ = nullptr;
std::unordered_map<std::string_view, int>* WorldTokenizerTest::by_bytes_ = nullptr;

TEST_F(WorldTokenizerTest, ReproducesOfficialCases) {
  const std::filesystem::path cases_path = kShared / "fixtures/tokenizer/world_cases.json";
  std::ifstream file(cases_path);
  ASSERT_TRUE(file) << cases_path;
  const nlohmann::json fixture = nlohmann::json::parse(file);
  ASSERT_GE(fixture["cases"].size(), 1u);
  for (const auto& test_case : fixture["cases"]) {
    const std::string name = test_case["name"];
    const std::string text = test_case["text"];
    const std::vector<int> ids = test_case["ids"];
    EXPECT_EQ(tokenizer_->Encode(text), ids) << name;
    Result<std::string> decoded = tokenizer_->Decode(ids);
    ASSERT_TRUE(decoded.ok()) << name << ": " << decoded.message();
    EXPECT_EQ(decoded.value(), text) << name;
  }
}

TEST_F(WorldTokenizerTest, VocabularyShape) {
  EXPECT_EQ(tokenizer_->vocab_size(), 65530);
  EXPECT_EQ(tokenizer_->TokenBytes(0), "");
  EXPECT_EQ(tokenizer_->TokenBytes(-1), "");
  EXPECT_EQ(tokenizer_->TokenBytes(65530), "");
  for (int b = 0; b < 256; ++b) {
    EXPECT_EQ(tokenizer_->TokenBytes(b + 1), std::string(1, static_cast<char>(b)));
  }
  EXPECT_EQ(tokenizer_->TokenBytes(261), "\n\n");
  EXPECT_EQ(tokenizer_->TokenBytes(65529), std::string(128, ' '));
}

TEST_F(WorldTokenizerTest, EveryTokenEncodesToItself) {
  for (int id = 1; id < tokenizer_->vocab_size(); ++id) {
    const std::string_view bytes = tokenizer_->TokenBytes(id);
    if (bytes.empty()) continue;
    const std::vector<int> ids = tokenizer_->Encode(bytes);
    ASSERT_EQ(ids, std::vector<int>{id}) << "token " << id;
  }
}

TEST_F(WorldTokenizerTest, RandomBytesRoundTripAndMatchReference) {
  std::mt19937 rng(7);
  for (int iteration = 0; iteration < 100; ++iteration) {
    std::string text(rng() % 300, '\0');
    for (char& c : text) c = static_cast<char>(rng() & 0xFF);
    ASSERT_EQ(RoundTrip(text), text) << "iteration " << iteration;
    ASSERT_EQ(tokenizer_->Encode(text), ReferenceEncode(text)) << "iteration " << iteration;
  }
}

TEST_F(WorldTokenizerTest, TokenSoupRoundTripsAndMatchesReference) {
  // Concatenated tokens cut at random points: long matches, near misses and broken UTF-8.
  std::mt19937 rng(11);
  for (int iteration = 0; iteration < 300; ++iteration) {
    std::string text;
    const int pieces = 1 + rng() % 40;
    for (int k = 0; k < pieces; ++k) {
      const std::string_view token = tokenizer_->TokenBytes(1 + rng() % 65529);
      text += token.substr(0, rng() % 3 == 0 ? rng() % (token.size() + 1) : token.size());
    }
    ASSERT_EQ(RoundTrip(text), text) << "iteration " << iteration;
    ASSERT_EQ(tokenizer_->Encode(text), ReferenceEncode(text)) << "iteration " << iteration;
  }
}

TEST_F(WorldTokenizerTest, InvalidUtf8AndZeroBytes) {
  const std::string samples[] = {std::string("\xFF\xFE\x00\x80", 4),
                                 "\xC3",
                                 "\xE9\xB9",
                                 std::string(1, '\0'),
                                 "caf\xE9 \xF0\x9F\x8C",
                                 "\xC0\xAF"};
  for (const std::string& text : samples) {
    EXPECT_EQ(RoundTrip(text), text);
    EXPECT_EQ(tokenizer_->Encode(text), ReferenceEncode(text));
  }
  EXPECT_EQ(tokenizer_->Encode(std::string(1, '\0')), std::vector<int>{1});
  EXPECT_EQ(tokenizer_->Encode("\xFF"), std::vector<int>{256});
  EXPECT_TRUE(tokenizer_->Encode("").empty());
}

TEST_F(WorldTokenizerTest, LongInputMatchesReference) {
  std::ifstream file(kShared / "data/tinyshakespeare.txt", std::ios::binary);
  ASSERT_TRUE(file);
  std::ostringstream content;
  content << file.rdbuf();
  const std::string text = content.str().substr(0, 16 * 1024);
  EXPECT_EQ(tokenizer_->Encode(text), ReferenceEncode(text));
  EXPECT_EQ(RoundTrip(text), text);
}

TEST_F(WorldTokenizerTest, DecodeSkipsEndOfDocumentAndRejectsUnknownIds) {
  const std::vector<int> with_zero = {0, 6699, 0, 0, 47, 0};
  Result<std::string> decoded = tokenizer_->Decode(with_zero);
  ASSERT_TRUE(decoded.ok()) << decoded.message();
  EXPECT_EQ(decoded.value(), "The.");

  for (const int bad : {-1, 65530, 65536, 1 << 30}) {
    const std::vector<int> ids = {6699, bad};
    decoded = tokenizer_->Decode(ids);
    ASSERT_FALSE(decoded.ok()) << bad;
    EXPECT_NE(decoded.message().find("token id " + std::to_string(bad) + " at position 1"),
              std::string::npos)
        << decoded.message();
  }
}

TEST(WorldTokenizerSmallTest, GreedyLongestMatchDoesNotBacktrack) {
  WorldVocab vocab;
  vocab.tokens.resize(260);
  for (int b = 0; b < 256; ++b) vocab.tokens[b + 1] = std::string(1, static_cast<char>(b));
  vocab.tokens[257] = "ab";
  vocab.tokens[258] = "abcd";
  vocab.tokens[259] = "bcde";
  const std::unique_ptr<Tokenizer> tokenizer = MakeWorldTokenizer(vocab);
  // Greedy takes "abcd" and leaves "e", although "a"+"bcde" would also cover the text.
  EXPECT_EQ(tokenizer->Encode("abcde"), (std::vector<int>{258, 'e' + 1}));
  // "abc" is a prefix of "abcd" but no token: the match falls back to "ab".
  EXPECT_EQ(tokenizer->Encode("abcx"), (std::vector<int>{257, 'c' + 1, 'x' + 1}));
  EXPECT_EQ(tokenizer->Decode(std::vector<int>{258, 'e' + 1}).value(), "abcde");
  // An id inside the range but not defined by the vocabulary is unknown too.
  vocab.tokens.resize(300);
  const std::unique_ptr<Tokenizer> sparse = MakeWorldTokenizer(vocab);
  EXPECT_EQ(sparse->vocab_size(), 300);
  EXPECT_EQ(sparse->TokenBytes(280), "");
  EXPECT_FALSE(sparse->Decode(std::vector<int>{280}).ok());
}

}  // namespace
}  // namespace anser
