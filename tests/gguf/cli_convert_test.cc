// `anser quantize` and `anser convert` end to end: an existing output is kept without
// --force and replaced with it; quantized types are refused for .pth; the outputs load; a
// packed file converts back to the standard one.
#include <gtest/gtest.h>

#include <sys/wait.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "anser/model.h"
#include "io/formats.h"
#include "kernels/kernels.h"
#include "test_files.h"

namespace {

namespace fs = std::filesystem;

const std::string kTiny = std::string(ANSER_SHARED_DIR) + "/fixtures/tiny-rwkv7-834K/model.fp32.pth";

std::string Dir() { return anser::testing::ScratchDir(); }

// Runs the binary with `args`, stdout to `out`, stderr to a file; returns the exit code.
int RunAnser(const std::string& args, const std::string& out = "/dev/null") {
  const std::string cmd =
      std::string(ANSER_BINARY) + " " + args + " >" + out + " 2>" + Dir() + "/stderr.txt";
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

// `--layout packed` writes a file of its own architecture for the table this machine runs (the
// reference packs nothing, so there it is refused), which `info` names and `convert` turns back
// into the standard file's tensors; its misuses are refused.
TEST(CliConvert, PackedLayout) {
  const std::string standard = Dir() + "/tiny_std.gguf", packed = Dir() + "/tiny_packed.gguf";
  const std::string back = Dir() + "/tiny_back.gguf";
  for (const std::string& f : {standard, packed, back}) fs::remove(f);
  ASSERT_EQ(RunAnser("quantize " + kTiny + " " + standard + " --dtype q8_0"), 0) << Stderr();
  const anser::CpuKernels& table = anser::ChosenKernels();
  if (anser::PackedLayout(table) == anser::MatLayout::kRows) {
    EXPECT_NE(RunAnser("quantize " + kTiny + " " + packed + " --dtype q8_0 --layout packed"), 0);
    EXPECT_NE(Stderr().find("no packed layout"), std::string::npos) << Stderr();
    return;
  }
  ASSERT_EQ(RunAnser("quantize " + kTiny + " " + packed + " --dtype q8_0 --layout packed"), 0)
      << Stderr();
  auto file = anser::LoadGguf(packed, anser::GgufRead::kMetadata);
  ASSERT_TRUE(file.ok()) << file.message();
  EXPECT_EQ(file->metadata.Find("general.architecture")->s, "anser-rwkv7-packed");
  EXPECT_EQ(file->metadata.Find("anser.packed.kernels")->s, table.name);
  ASSERT_EQ(RunAnser("info -m " + packed + " --format json", Dir() + "/info.json"), 0) << Stderr();
  std::ifstream info(Dir() + "/info.json");
  const std::string json((std::istreambuf_iterator<char>(info)), std::istreambuf_iterator<char>());
  EXPECT_NE(json.find(std::string("\"layout\": \"") +
                      std::string(anser::MatLayoutName(anser::PackedLayout(table)))),
            std::string::npos)
      << json;

  ASSERT_EQ(RunAnser("convert " + packed + " " + back), 0) << Stderr();
  auto a = anser::LoadGguf(standard), b = anser::LoadGguf(back);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(b->metadata.Find("general.architecture")->s, "rwkv7");
  ASSERT_EQ(a->tensors.tensors().size(), b->tensors.tensors().size());
  for (const anser::TensorView& t : a->tensors.tensors()) {
    const anser::TensorView* u = b->tensors.Find(t.name);
    ASSERT_NE(u, nullptr) << t.name;
    ASSERT_EQ(u->nbytes(), t.nbytes()) << t.name;
    EXPECT_EQ(std::memcmp(u->data, t.data, t.nbytes()), 0) << t.name;
  }

  EXPECT_EQ(RunAnser("quantize " + kTiny + " " + back + " --dtype q8_0 --force --kernels avx2"), 2);
  EXPECT_NE(RunAnser("quantize " + kTiny + " " + Dir() + "/p.pth --dtype q8_0 --layout packed"), 0);
  EXPECT_NE(Stderr().find("GGUF only"), std::string::npos) << Stderr();
  EXPECT_NE(RunAnser("quantize " + kTiny + " " + back +
                     " --dtype q8_0 --force --layout packed --kernels ref"),
            0);
  EXPECT_NE(Stderr().find("no packed layout"), std::string::npos) << Stderr();
  EXPECT_NE(RunAnser("quantize " + kTiny + " " + back + " --dtype f16 --force --layout packed"), 0);
  EXPECT_NE(Stderr().find("no projection"), std::string::npos) << Stderr();
}

}  // namespace
