#include <gtest/gtest.h>

#include <memory>
#include <random>
#include <string>
#include <vector>

#include "anser/tokenizer.h"

namespace anser {
namespace {

TEST(ByteTokenizerTest, IdIsByteValue) {
  const std::unique_ptr<Tokenizer> tokenizer = MakeByteTokenizer();
  EXPECT_EQ(tokenizer->vocab_size(), 256);
  EXPECT_EQ(tokenizer->Encode(std::string("A\0\xFF", 3)), (std::vector<int>{65, 0, 255}));
  EXPECT_TRUE(tokenizer->Encode("").empty());
  for (int id = 0; id < 256; ++id) {
    EXPECT_EQ(tokenizer->TokenBytes(id), std::string(1, static_cast<char>(id)));
  }
  EXPECT_EQ(tokenizer->TokenBytes(-1), "");
  EXPECT_EQ(tokenizer->TokenBytes(256), "");
}

TEST(ByteTokenizerTest, IdZeroIsTheZeroByte) {
  const std::unique_ptr<Tokenizer> tokenizer = MakeByteTokenizer();
  Result<std::string> decoded = tokenizer->Decode(std::vector<int>{0, 104, 0});
  ASSERT_TRUE(decoded.ok()) << decoded.message();
  EXPECT_EQ(decoded.value(), std::string("\0h\0", 3));
}

TEST(ByteTokenizerTest, RandomBytesRoundTrip) {
  const std::unique_ptr<Tokenizer> tokenizer = MakeByteTokenizer();
  std::mt19937 rng(3);
  for (int iteration = 0; iteration < 50; ++iteration) {
    std::string text(rng() % 200, '\0');
    for (char& c : text) c = static_cast<char>(rng() & 0xFF);
    Result<std::string> decoded = tokenizer->Decode(tokenizer->Encode(text));
    ASSERT_TRUE(decoded.ok()) << decoded.message();
    EXPECT_EQ(decoded.value(), text);
  }
}

TEST(ByteTokenizerTest, DecodeRejectsIdsOutsideTheBytes) {
  const std::unique_ptr<Tokenizer> tokenizer = MakeByteTokenizer();
  for (const int bad : {256, -1, 65535}) {
    Result<std::string> decoded = tokenizer->Decode(std::vector<int>{1, 2, bad});
    ASSERT_FALSE(decoded.ok()) << bad;
    EXPECT_NE(decoded.message().find("token id " + std::to_string(bad) + " at position 2"),
              std::string::npos)
        << decoded.message();
  }
}

}  // namespace
}  // namespace anser
