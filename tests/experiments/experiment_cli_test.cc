// `anser experiment` end to end, one tiny run per command: the exit code, one JSON object per
// run with the documented fields, and the files every experiment writes; plus the flag errors.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "test_files.h"

namespace {

namespace fs = std::filesystem;

struct RunResult {
  int code = -1;
  std::string out, err;
};

// Runs the binary through the shell (the arguments hold no spaces), stdout and stderr into
// files; `timeout` ends a hung child so it fails its test instead of stalling the suite.
RunResult RunAnser(const std::string& args) {
  const std::string dir = anser::testing::ScratchDir();
  const std::string out = dir + "/stdout", err = dir + "/stderr";
  const std::string command = "timeout 120 " + std::string(ANSER_BINARY) + " " + args + " >" + out + " 2>" + err;
  const int status = std::system(command.c_str());
  RunResult r;
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = anser::testing::ReadAll(out);
  r.err = anser::testing::ReadAll(err);
  return r;
}

std::vector<nlohmann::ordered_json> JsonLines(const std::string& text) {
  std::vector<nlohmann::ordered_json> lines;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) lines.push_back(nlohmann::ordered_json::parse(line));
  return lines;
}

std::vector<std::string> Keys(const nlohmann::ordered_json& j) {
  std::vector<std::string> keys;
  for (const auto& [key, value] : j.items()) keys.push_back(key);
  return keys;
}

void ExpectFiles(const std::string& dir, const std::vector<std::string>& names) {
  for (const std::string& name : names) {
    EXPECT_TRUE(fs::is_regular_file(dir + "/" + name)) << name;
    EXPECT_GT(fs::file_size(dir + "/" + name), 0u) << name;
  }
}

TEST(ExperimentCliTest, GroupWordSweep) {
  const std::string out = anser::testing::ScratchPath("gw");
  const RunResult r = RunAnser("experiment group-word --group Z2,A5 --lens 3 --sweep-layers 1-2 --ablate delta "
                          "--width 16 --head-size 8 --steps 4 --batch 4 --eval-every 2 --val 8 --threads 1 "
                          "--format json --out " + out);
  ASSERT_EQ(r.code, 0) << r.err;
  const std::vector<nlohmann::ordered_json> runs = JsonLines(r.out);
  // Two groups × (full, delta) × up to two layer counts.
  ASSERT_GE(runs.size(), 4u);
  ASSERT_LE(runs.size(), 8u);
  const std::vector<std::string> fields = {"group", "len", "layers", "width", "variant", "iclr_mult",
                                           "seed", "steps", "val_token_acc", "val_last_acc", "seconds"};
  for (const nlohmann::ordered_json& j : runs) {
    EXPECT_EQ(Keys(j), fields);
    EXPECT_TRUE(j["variant"] == "full" || j["variant"] == "delta") << j;
    EXPECT_GE(j["val_token_acc"].get<double>(), 0.0);
    EXPECT_LE(j["val_token_acc"].get<double>(), 1.0);
  }
  ExpectFiles(out, {"results.csv", "curves.csv", "summary.md", "curves.png", "min_layers.png"});
  const std::string csv = anser::testing::ReadAll(out + "/results.csv");
  EXPECT_EQ(csv.substr(0, csv.find('\n')),
            "group,len,layers,width,variant,iclr_mult,seed,steps,val_token_acc,val_last_acc,seconds");
  EXPECT_NE(anser::testing::ReadAll(out + "/summary.md").find("--sweep-layers 1-2"), std::string::npos);
}

TEST(ExperimentCliTest, Mqar) {
  const std::string out = anser::testing::ScratchPath("mqar");
  const RunResult r = RunAnser("experiment mqar --width 64 --seq-len 16 --pairs 4 --lrs 1e-3,3e-3 --steps 2 "
                          "--batch 2 --val 4 --threads 1 --out " + out);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("width 64\t(16,4)"), std::string::npos) << r.out;
  ExpectFiles(out, {"results.csv", "curves.csv", "summary.md", "accuracy.png"});
  const std::string csv = anser::testing::ReadAll(out + "/results.csv");
  EXPECT_EQ(csv.substr(0, csv.find('\n')),
            "width,state,seq_len,pairs,layers,variant,iclr_mult,lr,seed,steps,val_acc,bits_per_dim,seconds");
  EXPECT_NE(csv.find("\n64,8192,16,4,2,"), std::string::npos) << "2 layers × 1 head × 64² = 8192";
}

TEST(ExperimentCliTest, Ablation) {
  const std::string dir = anser::testing::ScratchDir();
  std::string text;
  for (int i = 0; i < 40; ++i) text += "to be or not to be, that is the question.\n";
  std::ofstream(dir + "/text.txt") << text;
  const std::string out = dir + "/abl";
  const RunResult r = RunAnser("experiment ablation --data " + dir + "/text.txt --layers 1 --width 16 --head-size 8 "
                          "--seeds 2 --steps 3 --batch 2 --ctx 16 --eval-every 0 --val-tokens 64 --threads 1 "
                          "--format json --out " + out);
  ASSERT_EQ(r.code, 0) << r.err;
  const std::vector<nlohmann::ordered_json> runs = JsonLines(r.out);
  ASSERT_EQ(runs.size(), 10u) << "five variants × two seeds";
  std::vector<std::string> variants;
  for (size_t i = 0; i < 5; ++i) variants.push_back(runs[i]["variant"]);
  EXPECT_EQ(variants, (std::vector<std::string>{"full", "scalar-decay", "scalar-iclr", "shared-keys", "no-bonus"}));
  ExpectFiles(out, {"results.csv", "curves.csv", "summary.md", "val_loss.png"});
  // Each run leaves a model file that carries its switches.
  const RunResult info = RunAnser("info -m " + out + "/runs/no-bonus-seed1/model.pth --format json");
  ASSERT_EQ(info.code, 0) << info.err;
  EXPECT_EQ(nlohmann::json::parse(info.out)["variant"], "no-bonus");
}

TEST(ExperimentCliTest, ClearErrors) {
  const std::string out = anser::testing::ScratchPath("bad");
  EXPECT_NE(RunAnser("experiment ablation --out " + out).err.find("--data"), std::string::npos);
  RunResult r = RunAnser("experiment group-word --group A6 --len 4 --layers 1 --out " + out);
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.err.find("unknown group 'A6'"), std::string::npos) << r.err;
  r = RunAnser("experiment group-word --group A5 --len 4 --layers 1 --ablate no-decay --out " + out);
  EXPECT_NE(r.err.find("unknown ablation 'no-decay'"), std::string::npos) << r.err;
  r = RunAnser("experiment group-word --group A5 --layers 1 --out " + out);
  EXPECT_NE(r.err.find("--len"), std::string::npos) << r.err;
  r = RunAnser("experiment mqar --seq-len 30 --pairs 8 --out " + out);
  EXPECT_NE(r.err.find("4 × the pairs"), std::string::npos) << r.err;
  EXPECT_EQ(RunAnser("experiment group-word --help").code, 0);
}

}  // namespace
