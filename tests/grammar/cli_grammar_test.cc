// The grammar flags of `anser generate` and `anser chat`, end to end through the binary.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "independent_validator.h"
#include "test_files.h"

namespace anser {
namespace {

const std::string kShared = ANSER_SHARED_DIR;
const std::string kWorld = kShared + "/fixtures/rand-rwkv7-L3-D128-world/model.bf16.pth";
const std::string kTiny = kShared + "/fixtures/tiny-rwkv7-834K/model.fp32.pth";
const std::string kIdsOnly = kShared + "/fixtures/rand-rwkv7-L2-D128-fp32/model.fp32.pth";
const std::string kVocab = kShared + "/vocab/rwkv_vocab_v20230424.txt";

struct Output {
  int code = -1;
  std::string out;
  std::string err;
};

std::string Quote(const std::string& arg) {
  std::string quoted = "'";
  for (const char c : arg) {
    if (c == '\'') {
      quoted += "'\\''";
    } else {
      quoted += c;
    }
  }
  quoted += '\'';
  return quoted;
}

Output RunAnser(const std::vector<std::string>& args, const std::string& input = "") {
  const std::string in = testing::ScratchPath("stdin");
  const std::string out = testing::ScratchPath("stdout");
  const std::string err = testing::ScratchPath("stderr");
  testing::WriteAll(in, input);
  std::string command = Quote(ANSER_BINARY);
  for (const std::string& a : args) {
    command += ' ';
    command += Quote(a);
  }
  for (const auto& [redirect, path] : {std::pair{" <", in}, {" >", out}, {" 2>", err}}) {
    command += redirect;
    command += Quote(path);
  }
  const int status = std::system(command.c_str());
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, testing::ReadAll(out),
          testing::ReadAll(err)};
}

constexpr char kSchema[] =
    R"({"type":"object","properties":{"city":{"type":"string","maxLength":8},
        "days":{"type":"integer","minimum":1,"maximum":7}},"required":["city","days"],
        "additionalProperties":false})";

TEST(CliGrammarTest, GenerateWithJsonSchemaWritesValidJson) {
  testing::ValidationCase request{nlohmann::json::parse(kSchema), "", {}};
  const std::string schema_file = testing::ScratchPath("schema.json");
  testing::WriteAll(schema_file, kSchema);
  for (const char* seed : {"1", "2", "3"}) {
    const Output r =
        RunAnser({"generate", "-m", kWorld, "--vocab", kVocab, "-p", "JSON:", "-n", "300", "--seed",
                  seed, "--temperature", "1", "--top-p", "1", "--json-schema-file", schema_file});
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_NE(r.err.find("grammar: complete"), std::string::npos) << r.err;
    request.documents.push_back(r.out);
  }
  const auto verdicts = testing::Validate({request});
  for (size_t k = 0; k < request.documents.size(); ++k) {
    EXPECT_TRUE(verdicts[0][k]) << request.documents[k];
  }
}

TEST(CliGrammarTest, GenerateWithGbnfStopsWhenComplete) {
  const Output r = RunAnser({"generate", "-m", kTiny, "-p", "ROMEO:", "-n", "100", "--seed", "4",
                             "--grammar", "root ::= \" \" [A-Z] [a-z]{1,5} \".\""});
  ASSERT_EQ(r.code, 0) << r.err;
  ASSERT_GE(r.out.size(), 4u);
  EXPECT_EQ(r.out[0], ' ');
  EXPECT_TRUE(r.out[1] >= 'A' && r.out[1] <= 'Z') << r.out;
  EXPECT_EQ(r.out.back(), '.') << r.out;
  EXPECT_NE(r.err.find("grammar: complete"), std::string::npos) << r.err;
}

TEST(CliGrammarTest, ChatRepliesFollowTheGrammarEachTurn) {
  const Output r = RunAnser({"chat", "-m", kTiny, "--seed", "9", "--json-object", "-n", "400"},
                            "hello\nand again\n");
  ASSERT_EQ(r.code, 0) << r.err;
  // Two replies, each "Assistant:" then one JSON value, then the blank line closing the turn.
  size_t at = 0;
  testing::ValidationCase request{nlohmann::json::object(), "", {}};
  for (int turn = 0; turn < 2; ++turn) {
    const size_t start = r.out.find("Assistant:", at);
    ASSERT_NE(start, std::string::npos) << r.out;
    const size_t end = r.out.find("\n\n", start);
    ASSERT_NE(end, std::string::npos) << r.out;
    request.documents.push_back(r.out.substr(start + 10, end - start - 10));
    at = end;
  }
  const auto verdicts = testing::Validate({request});
  for (size_t k = 0; k < request.documents.size(); ++k) {
    EXPECT_TRUE(verdicts[0][k]) << request.documents[k];
  }
}

TEST(CliGrammarTest, ErrorsNameTheFlag) {
  Output r = RunAnser({"generate", "-m", kTiny, "-p", "x", "--grammar", "root ::= (\"a\""});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err,
            "anser: error: --grammar: [grammar] line 1, column 14: expected ')' to close "
            "the group opened on line 1, column 10\n");
  r = RunAnser({"generate", "-m", kTiny, "-p", "x", "--json-schema",
                R"({"type":"string","format":"email"})"});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err,
            "anser: error: --json-schema: [json-schema] at /: format 'email' is not "
            "supported (date, time, date-time, uuid are)\n");
  r = RunAnser({"generate", "-m", kTiny, "-p", "x", "--grammar-file", "/nonexistent.gbnf"});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err, "anser: error: cannot open '/nonexistent.gbnf': check that the file exists\n");
  r = RunAnser({"generate", "-m", kIdsOnly, "-p", "1,2", "--json-object"});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err,
            "anser: error: a grammar needs the model's tokenizer (grammars work on text), "
            "and a model with 512 tokens has none\n");
  r = RunAnser({"chat", "-m", kTiny, "--json-object", "--grammar", "root ::= \"a\""});
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.err.find("excludes"), std::string::npos) << r.err;
  r = RunAnser({"generate", "--help"});
  EXPECT_NE(r.out.find("--json-schema-file"), std::string::npos);
}

}  // namespace
}  // namespace anser
