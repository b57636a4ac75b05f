#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <string>

#include "anser/tokenizer.h"

namespace anser {
namespace {

namespace fs = std::filesystem;

constexpr const char* kVocabName = "rwkv_vocab_v20230424.txt";

// A tiny World vocabulary whose token 257 is `marker`, so a test can tell which file was used.
void WriteVocab(const fs::path& path, const std::string& marker) {
  std::ofstream out(path);
  for (int b = 0; b < 256; ++b) {
    char line[32];
    std::snprintf(line, sizeof(line), "%d b'\\x%02x' 1\n", b + 1, b);
    out << line;
  }
  out << "257 '" << marker << "' " << marker.size() << "\n";
}

// Each test gets a fresh folder and an $ANSER_VOCAB restored afterwards.
class TokenizerLookupTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::temp_directory_path() /
           ("anser_lookup_" + std::to_string(::getpid()) + "_" + info->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "model_folder");
    std::ofstream(dir_ / "model.pth") << "not really weights";
    if (const char* env = std::getenv("ANSER_VOCAB")) saved_env_ = env;
    ::unsetenv("ANSER_VOCAB");
  }
  void TearDown() override {
    if (saved_env_) {
      ::setenv("ANSER_VOCAB", saved_env_->c_str(), 1);
    } else {
      ::unsetenv("ANSER_VOCAB");
    }
    fs::remove_all(dir_);
  }

  // The marker token of the vocabulary chosen for a 65536-token model, or the error.
  std::string Chosen(const fs::path& model, const std::string& flag = "") {
    Result<std::unique_ptr<Tokenizer>> tokenizer = TokenizerForModel(model.string(), 65536, flag);
    if (!tokenizer.ok()) return "error: " + tokenizer.message();
    if (*tokenizer == nullptr) return "null";
    return std::string((*tokenizer)->TokenBytes(257));
  }

  fs::path dir_;
  std::optional<std::string> saved_env_;
};

TEST_F(TokenizerLookupTest, FlagComesFirst) {
  WriteVocab(dir_ / kVocabName, "beside");
  WriteVocab(dir_ / "flag.txt", "flag");
  WriteVocab(dir_ / "env.txt", "env");
  ::setenv("ANSER_VOCAB", (dir_ / "env.txt").c_str(), 1);
  EXPECT_EQ(Chosen(dir_ / "model.pth", (dir_ / "flag.txt").string()), "flag");
}

TEST_F(TokenizerLookupTest, MissingFlagFileIsAnErrorNotAFallback) {
  WriteVocab(dir_ / kVocabName, "beside");
  const std::string chosen = Chosen(dir_ / "model.pth", (dir_ / "typo.txt").string());
  EXPECT_NE(chosen.find("cannot open vocabulary file " + (dir_ / "typo.txt").string()),
            std::string::npos)
      << chosen;
}

TEST_F(TokenizerLookupTest, BesideModelFileBeforeEnvironment) {
  WriteVocab(dir_ / kVocabName, "beside");
  WriteVocab(dir_ / "env.txt", "env");
  ::setenv("ANSER_VOCAB", (dir_ / "env.txt").c_str(), 1);
  EXPECT_EQ(Chosen(dir_ / "model.pth"), "beside");
}

TEST_F(TokenizerLookupTest, InsideModelFolder) {
  WriteVocab(dir_ / "model_folder" / kVocabName, "inside");
  WriteVocab(dir_ / kVocabName, "beside");
  EXPECT_EQ(Chosen(dir_ / "model_folder"), "inside");
}

TEST_F(TokenizerLookupTest, EnvironmentLast) {
  WriteVocab(dir_ / "env.txt", "env");
  ::setenv("ANSER_VOCAB", (dir_ / "env.txt").c_str(), 1);
  EXPECT_EQ(Chosen(dir_ / "model.pth"), "env");
  EXPECT_EQ(Chosen(dir_ / "model_folder"), "env");
}

TEST_F(TokenizerLookupTest, BrokenVocabularyReportsItsLine) {
  std::ofstream(dir_ / kVocabName) << "1 b'\\x00' 2\n";
  const std::string chosen = Chosen(dir_ / "model.pth");
  EXPECT_NE(chosen.find((dir_ / kVocabName).string() + ":1:"), std::string::npos) << chosen;
}

TEST_F(TokenizerLookupTest, NotFoundSaysWhereItLookedAndWhereToGetIt) {
  ::setenv("ANSER_VOCAB", (dir_ / "nowhere.txt").c_str(), 1);
  const std::string chosen = Chosen(dir_ / "model.pth");
  EXPECT_NE(chosen.find("needs the RWKV World vocabulary"), std::string::npos) << chosen;
  EXPECT_NE(chosen.find((dir_ / kVocabName).string()), std::string::npos) << chosen;
  EXPECT_NE(chosen.find((dir_ / "nowhere.txt").string()), std::string::npos) << chosen;
  EXPECT_NE(chosen.find("github.com/BlinkDL/RWKV-LM"), std::string::npos) << chosen;
  EXPECT_NE(chosen.find("RWKV-v5/rwkv_vocab_v20230424.txt"), std::string::npos) << chosen;
  EXPECT_NE(chosen.find("--vocab"), std::string::npos) << chosen;
  EXPECT_NE(chosen.find("$ANSER_VOCAB"), std::string::npos) << chosen;

  ::unsetenv("ANSER_VOCAB");
  const std::string unset = Chosen(dir_ / "model_folder");
  EXPECT_NE(unset.find((dir_ / "model_folder" / kVocabName).string()), std::string::npos) << unset;
  EXPECT_NE(unset.find("$ANSER_VOCAB (not set)"), std::string::npos) << unset;
}

TEST_F(TokenizerLookupTest, OtherVocabularySizes) {
  Result<std::unique_ptr<Tokenizer>> bytes = TokenizerForModel("m.pth", 256, "");
  ASSERT_TRUE(bytes.ok()) << bytes.message();
  ASSERT_NE(*bytes, nullptr);
  EXPECT_EQ((*bytes)->vocab_size(), 256);

  for (const int n_vocab : {0, 100, 50277, 65535, 65537}) {
    Result<std::unique_ptr<Tokenizer>> none = TokenizerForModel("m.pth", n_vocab, "flag.txt");
    ASSERT_TRUE(none.ok()) << none.message();
    EXPECT_EQ(*none, nullptr) << n_vocab;
  }
}

}  // namespace
}  // namespace anser
