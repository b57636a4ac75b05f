// End-to-end tests of the `anser` binary: each test runs it as a child process and checks its
// exit code, stdout and stderr.
#include <gtest/gtest.h>

#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "run_anser.h"
#include "test_files.h"

namespace {

namespace fs = std::filesystem;

const std::string kShared = ANSER_SHARED_DIR;
const std::string kTinyDir = kShared + "/fixtures/tiny-rwkv7-834K";
const std::string kTiny = kTinyDir + "/model.fp32.pth";
const std::string kWorldDir = kShared + "/fixtures/rand-rwkv7-L3-D128-world";
const std::string kWorld = kWorldDir + "/model.bf16.pth";
const std::string kIdsOnly = kShared + "/fixtures/rand-rwkv7-L2-D128-fp32/model.fp32.pth";
const std::string kVocab = kShared + "/vocab/rwkv_vocab_v20230424.txt";

struct RunResult {
  int code = -1;
  std::string out;
  std::string err;
};

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

void WriteFile(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}

std::vector<float> ReadFloats(const std::string& path) {
  const std::string bytes = ReadFile(path);
  std::vector<float> values(bytes.size() / sizeof(float));
  std::memcpy(values.data(), bytes.data(), values.size() * sizeof(float));
  return values;
}

class CliTest : public anser::testing::FreshDirTest {
 protected:
  std::string Path(const std::string& name) const { return (dir_ / name).string(); }

  // Runs the binary with `args`, feeding `input` on stdin.
  RunResult Run(const std::vector<std::string>& args, const std::string& input = "") {
    anser::testing::RunOptions options;
    options.input = input;
    const anser::testing::RunOutcome o = anser::testing::RunAnser(args, dir_.string(), options);
    return {o.code, o.out, o.err};
  }

  // Runs a command that must succeed; the failure message shows its stderr.
  std::string RunOk(const std::vector<std::string>& args, const std::string& input = "") {
    const RunResult r = Run(args, input);
    EXPECT_EQ(r.code, 0) << r.err;
    return r.out;
  }

};

std::string JoinIds(const std::vector<int>& ids) {
  std::string s;
  for (const int id : ids) {
    if (!s.empty()) s += ',';
    s += std::to_string(id);
  }
  return s;
}

TEST_F(CliTest, HelpAndVersion) {
  for (const char* sub :
       {"generate", "chat", "logits", "tokenize", "detokenize", "info", "eval", "bench"}) {
    const RunResult r = Run({sub, "--help"});
    EXPECT_EQ(r.code, 0) << sub;
    EXPECT_NE(r.out.find("Usage"), std::string::npos) << sub;
  }
  EXPECT_EQ(RunOk({"--version"}).rfind(std::string("anser ") + ANSER_VERSION + " (commit ", 0), 0u);
  EXPECT_EQ(Run({"--help"}).code, 0);
}

TEST_F(CliTest, BadCommandLinesFailWithAMessage) {
  const std::vector<std::vector<std::string>> cases = {
      {},                                                                // no subcommand
      {"frobnicate"},                                                    // unknown subcommand
      {"info", "-m", kTiny, "--bogus"},                                  // unknown flag
      {"info"},                                                          // missing model
      {"info", "-m", Path("missing.pth")},                               // nonexistent model
      {"generate", "-m", kTiny},                                         // no prompt
      {"generate", "-m", kTiny, "-f", Path("missing.txt")},              // nonexistent prompt file
      {"logits", "-m", kTiny, "--tokens", "1,256", "--out", Path("x")},  // id out of range
      {"logits", "-m", kTiny, "--tokens", "1,x", "--out", Path("x")},    // not an id
      {"tokenize", "--vocab", Path("missing.txt"), "--text", "a"},
      {"detokenize", "--vocab", kVocab, "--ids", "70000"},
      {"eval", "-m", kTiny, "--text-file", Path("missing.txt")},
      {"bench", "--shape", "7b"},
      {"bench", "-m", kTiny, "--dtype", "f16"},  // --dtype applies to --shape only
      {"generate", "-m", kWorld, "--vocab", kVocab, "-p", "x", "--state", kTiny},  // not a state
  };
  for (const auto& args : cases) {
    std::string joined;
    for (const std::string& a : args) joined += a + " ";
    const RunResult r = Run(args);
    EXPECT_NE(r.code, 0) << joined;
    EXPECT_FALSE(r.err.empty()) << joined;
    EXPECT_TRUE(r.out.empty()) << joined << "\n" << r.out;
  }
  EXPECT_NE(Run({"info", "-m", Path("missing.pth")}).err.find("not found"), std::string::npos);
}

TEST_F(CliTest, LogitsMatchTheReference) {
  struct Folder {
    std::string dir;
    std::vector<std::string> extra;  // flags for World-vocabulary models
  };
  for (const Folder& folder : {Folder{kTinyDir, {}}, Folder{kWorldDir, {"--vocab", kVocab}}}) {
    const nlohmann::json cases = nlohmann::json::parse(ReadFile(folder.dir + "/cases.json"));
    for (const nlohmann::json& c : cases["cases"]) {
      const std::string name = c["name"];
      // The model tests cover every case; here one case per feature keeps the suite fast under
      // the sanitizers (the long World case alone writes 60 MB of logits per path).
      if (name == "long" || name == "hello.fp16") continue;
      const std::string model =
          folder.dir + "/" + c.value("model", cases["model"].get<std::string>());
      const std::vector<int> tokens = c["tokens"];
      const std::vector<int> positions = c["positions"];
      const std::vector<float> ref = ReadFloats(folder.dir + "/" + c["logits"].get<std::string>());
      const size_t n_vocab = ref.size() / positions.size();
      for (const bool step : {false, true}) {
        SCOPED_TRACE(name + (step ? " step" : " sequence"));
        std::vector<std::string> args = {"logits", "-m", model, "--all", "--out", Path("logits")};
        // World cases carry their text: run it through the tokenizer to check that path too.
        if (c.contains("text")) {
          args.insert(args.end(), {"--text", c["text"].get<std::string>()});
        } else {
          args.insert(args.end(), {"--tokens", JoinIds(tokens)});
        }
        args.insert(args.end(), folder.extra.begin(), folder.extra.end());
        if (step) args.push_back("--step");
        RunOk(args);
        const std::vector<float> got = ReadFloats(Path("logits"));
        ASSERT_EQ(got.size(), tokens.size() * n_vocab);
        for (size_t i = 0; i < positions.size(); ++i) {
          const float* want = ref.data() + i * n_vocab;
          const float* have = got.data() + static_cast<size_t>(positions[i]) * n_vocab;
          double mean = 0, var = 0, max_diff = 0;
          size_t want_arg = 0, have_arg = 0;
          for (size_t v = 0; v < n_vocab; ++v) mean += want[v];
          mean /= static_cast<double>(n_vocab);
          for (size_t v = 0; v < n_vocab; ++v) {
            var += (want[v] - mean) * (want[v] - mean);
            max_diff = std::max(max_diff, static_cast<double>(std::fabs(want[v] - have[v])));
            if (want[v] > want[want_arg]) want_arg = v;
            if (have[v] > have[have_arg]) have_arg = v;
          }
          const double std_dev = std::sqrt(var / static_cast<double>(n_vocab));
          EXPECT_LE(max_diff, 1e-4 * std_dev) << "position " << positions[i];
          EXPECT_EQ(have_arg, want_arg) << "position " << positions[i];
        }
      }
    }
  }
  // Without --all only the last position is written; the Hugging Face folder loads too.
  RunOk({"logits", "-m", kTinyDir + "/hf", "--tokens", "34,105,110", "--out", Path("last")});
  const std::vector<float> last = ReadFloats(Path("last"));
  const std::vector<float> ref = ReadFloats(kTinyDir + "/quote_in.logits.f32");
  ASSERT_EQ(last.size(), 256u);
  EXPECT_NEAR(last[0], ref[2 * 256], 1e-3);
}

TEST_F(CliTest, TokenizeAndDetokenizeMatchTheWorldCases) {
  const nlohmann::json cases =
      nlohmann::json::parse(ReadFile(kShared + "/fixtures/tokenizer/world_cases.json"));
  for (const nlohmann::json& c : cases["cases"]) {
    const std::string name = c["name"];
    if (name != "english" && name != "chinese" && name != "emoji" && name != "whitespace" &&
        name != "empty")
      continue;
    SCOPED_TRACE(name);
    const std::string text = c["text"];
    const std::vector<int> ids = c["ids"];
    EXPECT_EQ(nlohmann::json::parse(RunOk({"tokenize", "--vocab", kVocab, "--text", text}))
                  .get<std::vector<int>>(),
              ids);
    EXPECT_EQ(RunOk({"detokenize", "--vocab", kVocab, "--ids", JoinIds(ids)}), text);
  }
}

TEST_F(CliTest, InfoReportsTheConfiguration) {
  const nlohmann::json tiny =
      nlohmann::json::parse(RunOk({"info", "-m", kTiny, "--format", "json"}));
  EXPECT_EQ(tiny["n_layer"], 12);
  EXPECT_EQ(tiny["n_embd"], 64);
  EXPECT_EQ(tiny["n_head"], 1);
  EXPECT_EQ(tiny["head_size"], 64);
  EXPECT_EQ(tiny["n_vocab"], 256);
  EXPECT_EQ(tiny["n_ffn"], 256);
  EXPECT_GT(tiny["params"].get<int64_t>(), 0);
  EXPECT_GT(tiny["dtypes"]["f32"].get<int>(), 0);

  const nlohmann::json world =
      nlohmann::json::parse(RunOk({"info", "-m", kWorld, "--format", "json"}));
  EXPECT_EQ(world["n_vocab"], 65536);
  EXPECT_EQ(world["n_head"], 2);
  EXPECT_EQ(world["lora_ranks"], (nlohmann::json{{"w", 16}, {"a", 16}, {"v", 8}, {"g", 32}}));
  EXPECT_EQ(world["dtypes"].size(), 1u);
  EXPECT_GT(world["dtypes"]["bf16"].get<int>(), 0);

  EXPECT_NE(RunOk({"info", "-m", kTiny}).find("layers:     12"), std::string::npos);
}

// llama-quantize's Q4_K_M mix: 48 f32 tensors, 13 q4_K, the head q6_K; its Q3_K_M mix: 13 q3_K;
// all run as stored, nothing converted at load.
TEST_F(CliTest, InfoNamesStoredGgmlTypesAndWhatTheyRunAs) {
  const std::string dir = std::string(ANSER_SHARED_DIR) + "/fixtures/gguf-quants/";
  const nlohmann::json info =
      nlohmann::json::parse(RunOk({"info", "-m", dir + "model.Q4_K_M.gguf", "--format", "json"}));
  EXPECT_EQ(info["dtypes"], (nlohmann::json{{"f32", 48}, {"q4_K", 13}, {"q6_K", 1}}));
  EXPECT_EQ(info["converted_at_load"], nlohmann::json::object());
  const std::string q3_k_m = dir + "model.Q3_K_M.gguf";
  const nlohmann::json q3_info =
      nlohmann::json::parse(RunOk({"info", "-m", q3_k_m, "--format", "json"}));
  EXPECT_EQ(q3_info["dtypes"], (nlohmann::json{{"f32", 48}, {"q3_K", 13}, {"q6_K", 1}}));
  EXPECT_EQ(q3_info["converted_at_load"], nlohmann::json::object());
  EXPECT_EQ(nlohmann::json::parse(RunOk({"info", "-m", kTiny, "--format", "json"}))["converted_at_load"],
            nlohmann::json::object());
  EXPECT_NE(RunOk({"info", "-m", dir + "model.Q4_K_M.gguf"}).find("q4_K x13, q6_K x1"), std::string::npos);
  const std::string text = RunOk({"info", "-m", q3_k_m});
  EXPECT_NE(text.find("q3_K x13, q6_K x1"), std::string::npos) << text;
  EXPECT_EQ(text.find("converted at load"), std::string::npos) << text;
}

TEST_F(CliTest, GenerateIsReproducible) {
  const std::vector<std::string> greedy = {"generate", "-m", kTiny,           "-p", "Hello",
                                           "-n",       "12", "--temperature", "0"};
  const RunResult first = Run(greedy);
  ASSERT_EQ(first.code, 0) << first.err;
  EXPECT_FALSE(first.out.empty());
  EXPECT_NE(first.err.find("tok/s"), std::string::npos);
  EXPECT_EQ(RunOk(greedy), first.out);

  const std::vector<std::string> seeded = {"generate", "-m",      kTiny,  "-p",     "Hello", "-n",
                                           "12",       "--top-p", "0.95", "--seed", "42"};
  const std::string sampled = RunOk(seeded);
  EXPECT_FALSE(sampled.empty());
  EXPECT_EQ(RunOk(seeded), sampled);

  // The prompt from a file and from stdin gives the same greedy completion as -p.
  WriteFile(Path("prompt.txt"), "Hello");
  EXPECT_EQ(
      RunOk({"generate", "-m", kTiny, "-f", Path("prompt.txt"), "-n", "12", "--temperature", "0"}),
      first.out);
  EXPECT_EQ(RunOk({"generate", "-m", kTiny, "-f", "-", "-n", "12", "--temperature", "0"}, "Hello"),
            first.out);
}

// Without -m, generate runs Anser's own model (models/default.pth): byte-level, trained on
// Shakespeare, so a greedy continuation of a speaker's name is English text.
TEST_F(CliTest, GenerateRunsTheDefaultModelWithoutDashM) {
  const std::string text = RunOk({"generate", "-p", "ROMEO:", "-n", "80", "--temperature", "0"});
  ASSERT_EQ(text.size(), 80u);
  size_t letters = 0;
  for (unsigned char c : text) letters += std::isalpha(c) || c == ' ' || c == '\n' ? 1 : 0;
  EXPECT_GE(letters, 64u) << text;
  EXPECT_EQ(text, RunOk({"generate", "-m", std::string(ANSER_SOURCE_DIR) + "/models/default.pth",
                         "-p", "ROMEO:", "-n", "80", "--temperature", "0"}));
}

TEST_F(CliTest, GenerateStopsAtAStopString) {
  const std::string full =
      RunOk({"generate", "-m", kTiny, "-p", "Hello", "-n", "12", "--temperature", "0"});
  ASSERT_GE(full.size(), 4u);
  const std::string stop = full.substr(2, 2);
  const std::string stopped = RunOk(
      {"generate", "-m", kTiny, "-p", "Hello", "-n", "12", "--temperature", "0", "--stop", stop});
  EXPECT_EQ(stopped, full.substr(0, full.find(stop)));
}

TEST_F(CliTest, SavedStateContinuesTheGeneration) {
  const std::string first = RunOk({"generate", "-m", kTiny, "-p", "Hello", "-n", "8",
                                   "--temperature", "0", "--save-state", Path("state.pth")});
  const std::string continued = RunOk({"generate", "-m", kTiny, "-p", " and", "-n", "8",
                                       "--temperature", "0", "--state", Path("state.pth")});
  const std::string whole = RunOk(
      {"generate", "-m", kTiny, "-p", "Hello" + first + " and", "-n", "8", "--temperature", "0"});
  EXPECT_EQ(continued, whole);
}

TEST_F(CliTest, GenerateFromTokenIdsWithoutATokenizer) {
  const std::string out =
      RunOk({"generate", "-m", kIdsOnly, "-p", "1,2,3", "-n", "4", "--temperature", "0"});
  ASSERT_FALSE(out.empty());
  ASSERT_EQ(out.back(), '\n');
  for (const nlohmann::json& id : nlohmann::json::parse("[" + out + "]")) {
    EXPECT_GE(id.get<int>(), 0);
    EXPECT_LT(id.get<int>(), 512);
  }
}

TEST_F(CliTest, EvalTextFile) {
  const std::string text = "The quick brown fox jumps over the lazy dog.\n";
  WriteFile(Path("text.txt"), text);
  const nlohmann::json r = nlohmann::json::parse(
      RunOk({"eval", "-m", kTiny, "--text-file", Path("text.txt"), "--format", "json"}));
  EXPECT_EQ(r["tokens"], text.size());  // byte-level model
  EXPECT_EQ(r["bytes"], text.size());
  const double nats = r["nats_per_token"], bpb = r["bits_per_byte"], ppl = r["perplexity"];
  EXPECT_TRUE(std::isfinite(nats) && nats > 0);
  EXPECT_NEAR(ppl, std::exp(nats), 1e-9 * ppl);
  EXPECT_NEAR(bpb,
              nats * static_cast<double>(text.size() - 1) / std::log(2.0) /
                  static_cast<double>(text.size()),
              1e-9);
}

TEST_F(CliTest, EvalLambada) {
  WriteFile(Path("lambada.jsonl"),
            "{\"text\": \"the cat sat on the mat and looked at the cat\"}\n"
            "{\"text\": \"one two three\"}\n");
  const nlohmann::json r =
      nlohmann::json::parse(RunOk({"eval", "-m", kWorld, "--vocab", kVocab, "--lambada",
                                   Path("lambada.jsonl"), "--format", "json"}));
  EXPECT_EQ(r["n"], 2);
  EXPECT_TRUE(std::isfinite(r["perplexity"].get<double>()));
  EXPECT_GE(r["accuracy"].get<double>(), 0.0);
  EXPECT_LE(r["accuracy"].get<double>(), 1.0);
  const nlohmann::json one =
      nlohmann::json::parse(RunOk({"eval", "-m", kTiny, "--lambada", Path("lambada.jsonl"),
                                   "--limit", "1", "--format", "json"}));
  EXPECT_EQ(one["n"], 1);
}

TEST_F(CliTest, Bench) {
  const nlohmann::json shape = nlohmann::json::parse(
      RunOk({"bench", "--shape", "0.1b", "--prompt", "0", "--gen", "0", "--format", "json"}));
  EXPECT_EQ(shape["params"], 191084544);
  EXPECT_EQ(shape["dtype"], "bf16");

  const nlohmann::json timed =
      nlohmann::json::parse(RunOk({"bench", "--model", kTiny, "--prompt", "8", "--gen", "4",
                                   "--reps", "1", "--threads", "1", "--format", "json"}));
  for (const char* field : {"params", "dtype", "threads", "prompt", "gen", "prefill_tok_s",
                            "decode_tok_s", "peak_rss_bytes"}) {
    EXPECT_TRUE(timed.contains(field)) << field;
  }
  EXPECT_GT(timed["prefill_tok_s"].get<double>(), 0);
  EXPECT_GT(timed["decode_tok_s"].get<double>(), 0);
  EXPECT_GT(timed["peak_rss_bytes"].get<int64_t>(), 0);
  EXPECT_EQ(timed["threads"], 1);
  EXPECT_EQ(timed["dtype"], "f32");
  const std::string kernels = timed["kernels"].get<std::string>();
  EXPECT_TRUE(kernels == "ref" || kernels == "avx2" || kernels == "avxvnni" || kernels == "avx512") << kernels;
}

TEST_F(CliTest, ChatWithPipedInput) {
  const RunResult r = Run({"chat", "-m", kTiny, "-n", "16", "--seed", "1"}, "hello\n/quit\n");
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out.rfind("Assistant:", 0), 0u) << r.out;

  const RunResult saved =
      Run({"chat", "-m", kTiny, "-n", "8", "--system", "Be brief.", "--seed", "1"},
          "hi\n\n/save " + Path("chat.pth") + "\n/reset\n/load " + Path("chat.pth") + "\nbye\n");
  EXPECT_EQ(saved.code, 0) << saved.err;
  EXPECT_TRUE(fs::exists(Path("chat.pth")));
  // A saved chat state continues a generation.
  RunOk({"generate", "-m", kTiny, "--state", Path("chat.pth"), "-p", "User: x", "-n", "2"});
}

}  // namespace
