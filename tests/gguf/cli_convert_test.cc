// `anser quantize` and `anser convert` end to end: an existing output is kept without
// --force and replaced with it; quantized types are refused for .pth; the outputs load.
#include <gtest/gtest.h>

#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "anser/model.h"
#include "test_files.h"

namespace {

namespace fs = std::filesystem;

const std::string kTiny = std::string(ANSER_SHARED_DIR) + "/fixtures/tiny-rwkv7-834K/model.fp32.pth";

std::string Dir() { return anser::testing::ScratchDir(); }

// Runs the binary with `args`, stderr to a file; returns the exit code.
int RunAnser(const std::string& args) {
  const std::string cmd = std::string(ANSER_BINARY) + " " + args + " >/dev/null 2>" + Dir() + "/stderr.txt";
  const int status = std::system(cmd.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::string Stderr() {
  std::ifstream in(Dir() + "/stderr.txt");
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

TEST(CliConvert, ForceAndFormats) {
  const std::string out = Dir() + "/tiny.gguf";
  fs::remove(out);
  ASSERT_EQ(RunAnser("quantize " + kTiny + " " + out + " --dtype q8_0"), 0) << Stderr();
  const auto q8_size = fs::file_size(out);
  EXPECT_NE(RunAnser("quantize " + kTiny + " " + out + " --dtype q4_0"), 0);
  EXPECT_NE(Stderr().find("--force"), std::string::npos) << Stderr();
  EXPECT_EQ(fs::file_size(out), q8_size);
  ASSERT_EQ(RunAnser("quantize " + kTiny + " " + out + " --dtype q4_0 --force"), 0) << Stderr();
  EXPECT_LT(fs::file_size(out), q8_size);
  EXPECT_TRUE(anser::Model::Load(out).ok());

  const std::string pth = Dir() + "/tiny_q.pth";
  fs::remove(pth);
  EXPECT_NE(RunAnser("quantize " + kTiny + " " + pth + " --dtype q4_0"), 0);
  EXPECT_NE(Stderr().find("GGUF only"), std::string::npos) << Stderr();
  EXPECT_FALSE(fs::exists(pth));

  const std::string hf = Dir() + "/tiny_hf";
  fs::remove_all(hf);
  EXPECT_NE(RunAnser("convert " + out + " " + hf), 0);  // a q4_0 model stays GGUF
  EXPECT_NE(Stderr().find("GGUF only"), std::string::npos) << Stderr();
  ASSERT_EQ(RunAnser("convert " + kTiny + " " + hf), 0) << Stderr();
  EXPECT_TRUE(fs::exists(hf + "/config.json"));
  EXPECT_NE(RunAnser("convert " + kTiny + " " + hf), 0);
  ASSERT_EQ(RunAnser("convert " + kTiny + " " + hf + " --force"), 0) << Stderr();
  EXPECT_TRUE(anser::Model::Load(hf).ok());
}

TEST(CliConvert, RandomWeightsOfAnOfficialShape) {
  const std::string vocab = std::string(ANSER_SHARED_DIR) + "/vocab/rwkv_vocab_v20230424.txt";
  const std::string out = Dir() + "/random-0.1b.gguf";
  fs::remove(out);
  EXPECT_NE(RunAnser("quantize --shape 0.1b " + kTiny + " " + out + " --dtype q4_0"), 0);
  EXPECT_NE(Stderr().find("only OUT"), std::string::npos) << Stderr();
  EXPECT_NE(RunAnser("convert " + kTiny), 0);
  EXPECT_NE(Stderr().find("IN and OUT"), std::string::npos) << Stderr();
  EXPECT_NE(RunAnser("convert --shape 0.7b " + out), 0);
  EXPECT_FALSE(fs::exists(out));

  ASSERT_EQ(RunAnser("quantize --shape 0.1b " + out + " --dtype q4_0 --vocab " + vocab), 0) << Stderr();
  auto model = anser::Model::Load(out);
  ASSERT_TRUE(model.ok()) << model.message();
  // The official count less layer 0's unused v0/v1/v2 (768 + 2 × 768 × 32), which GGUF
  // files leave out as llama.cpp's converter does.
  EXPECT_EQ((*model)->params(), 191084544 - 49920);
  const auto official = anser::OfficialShape("0.1b");
  ASSERT_TRUE(official.ok());
  EXPECT_EQ((*model)->config().n_layer, official->n_layer);
  EXPECT_EQ((*model)->config().n_embd, official->n_embd);
  EXPECT_EQ((*model)->config().n_vocab, 65536);
  fs::remove(out);
}

// `anser imatrix` collects on a text; `quantize --imatrix` takes it for the llama.cpp types and
// refuses it, as a usage error, for a type it cannot steer.
TEST(CliConvert, ImatrixSteersTheLlamaCppTypes) {
  const std::string text = Dir() + "/calib.txt";
  std::ofstream(text) << std::string(600, 'a') + "ROMEO: what light through yonder window breaks?";
  const std::string imatrix = Dir() + "/imatrix.gguf";
  fs::remove(imatrix);
  ASSERT_EQ(RunAnser("imatrix -m " + kTiny + " --text-file " + text + " --out " + imatrix + " --ctx 64 --chunks 3"), 0)
      << Stderr();
  EXPECT_NE(Stderr().find("3 chunks of 64 tokens"), std::string::npos) << Stderr();
  const std::string out = Dir() + "/tiny.iq4_nl.gguf";
  fs::remove(out);
  ASSERT_EQ(RunAnser("quantize " + kTiny + " " + out + " --dtype IQ4_NL --imatrix " + imatrix), 0) << Stderr();
  EXPECT_TRUE(anser::Model::Load(out).ok());
  EXPECT_EQ(RunAnser("quantize " + kTiny + " " + Dir() + "/tiny.q4_0.gguf --dtype q4_0 --imatrix " + imatrix), 2);
  EXPECT_NE(Stderr().find("--imatrix steers"), std::string::npos) << Stderr();
  EXPECT_EQ(RunAnser("imatrix -m " + kTiny + " --text-file " + text + " --out " + imatrix), 1);
  EXPECT_NE(Stderr().find("--force"), std::string::npos) << Stderr();
}

}  // namespace
