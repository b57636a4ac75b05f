// The CLI's first five minutes: every numeric flag of every subcommand refuses out-of-range
// values with exit status 2 and one message naming the flag, the value and the range; `anser`
// alone prints the help (status 2); `--version` names the build and the kernel table; `generate`
// echoes its prompt on a terminal only, and its report starts a line of its own.
#include <gtest/gtest.h>
#include <pty.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "run_anser.h"
#include "test_files.h"

namespace {

namespace fs = std::filesystem;

const std::string kShared = ANSER_SHARED_DIR;
const std::string kTiny = kShared + "/fixtures/tiny-rwkv7-834K/model.fp32.pth";

class CliUsage : public anser::testing::FreshDirTest {
 protected:
  anser::testing::RunOutcome Run(const std::vector<std::string>& args,
                                 anser::testing::RunOptions options = {}) {
    return anser::testing::RunAnser(args, dir_.string(), options);
  }

};

// Runs the binary with stdin, stdout and stderr on one pseudo-terminal; returns what the
// terminal shows at the end.
std::string RunOnTerminal(const std::vector<std::string>& args, int* status) {
  int master = -1;
  const pid_t pid = forkpty(&master, nullptr, nullptr, nullptr);
  if (pid == 0) {
    std::vector<std::string> strings = {ANSER_BINARY};
    strings.insert(strings.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (std::string& s : strings) argv.push_back(s.data());
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  std::string out;
  char buffer[4096];
  for (;;) {
    const ssize_t n = read(master, buffer, sizeof buffer);
    if (n <= 0) break;  // EIO once the child has exited and closed the terminal
    out.append(buffer, static_cast<size_t>(n));
  }
  close(master);
  waitpid(pid, status, 0);
  // What the terminal finally shows: "\r\n" is a newline, and "\r" + erase-line ("\x1b[K")
  // takes back a status line (the loading message).
  std::string screen;
  for (size_t i = 0; i < out.size(); ++i) {
    if (out.compare(i, 4, "\r\x1b[K") == 0) {
      screen.resize(screen.rfind('\n') == std::string::npos ? 0 : screen.rfind('\n') + 1);
      i += 3;
    } else if (out[i] != '\r') {
      screen += out[i];
    }
  }
  return screen;
}

// The most digits in a row in `text`.
size_t LongestDigitRun(const std::string& text) {
  size_t longest = 0, run = 0;
  for (char c : text) {
    run = (c >= '0' && c <= '9') ? run + 1 : 0;
    longest = std::max(longest, run);
  }
  return longest;
}

struct BadFlag {
  std::vector<std::string> command;  // the subcommand and what it needs besides the flag
  std::string flag;
  std::string value;
};

TEST_F(CliUsage, EveryNumericFlagRefusesOutOfRangeValuesWithStatus2) {
  const std::vector<std::string> generate = {"generate", "-m", kTiny, "-p", "x"};
  const std::vector<std::string> chat = {"chat", "-m", kTiny};
  const std::vector<std::string> bench = {"bench", "--shape", "0.1b"};
  const std::vector<std::string> eval = {"eval", "-m", kTiny, "--text-file", kTiny};
  const std::vector<std::string> train = {"train", "--data", kTiny, "--out", "run"};
  const std::vector<std::string> serve = {"serve", "-m", kTiny};
  const std::vector<std::string> convert = {"convert", "--shape", "0.1b", "out.pth"};
  const std::vector<std::string> quantize = {"quantize", "--shape", "0.1b", "out.gguf",
                                             "--dtype", "q8_0"};
  const std::vector<std::string> imatrix = {"imatrix", "-m", kTiny, "--text-file", kTiny, "--out", "im.gguf"};
  const std::vector<std::string> group_word = {"experiment", "group-word", "--group", "A5",
                                               "--out", "run"};
  const std::vector<std::string> mqar = {"experiment", "mqar", "--out", "run"};
  const std::vector<std::string> ablation = {"experiment", "ablation", "--data", kTiny,
                                             "--out", "run"};
  const std::vector<BadFlag> cases = {
      {generate, "--temperature", "-1"},     {generate, "--top-p", "0"},
      {generate, "--top-p", "7"},            {generate, "--top-k", "-3"},
      {generate, "--min-p", "1"},            {generate, "--min-p", "-0.1"},
      {generate, "--presence-penalty", "inf"}, {generate, "--frequency-penalty", "nan"},
      {generate, "--penalty-decay", "2"},    {generate, "--max-tokens", "-5"},
      {generate, "--max-tokens", "1.5"},     {generate, "--max-tokens", "99999999999"},
      {generate, "--threads", "-1"},         {generate, "--threads", "5000"},
      {generate, "--seed", "-1"},            {generate, "--top-p", "abc"},
      {chat, "--max-tokens", "-1"},          {chat, "--temperature", "-0.5"},
      {chat, "--top-k", "-1"},               {bench, "--prompt", "-1"},
      {bench, "--gen", "-1"},                {bench, "--batch", "0"},
      {bench, "--reps", "0"},                {bench, "--threads", "99999"},
      {bench, "--seed", "x"},                {eval, "--limit", "-2"},
      {eval, "--threads", "-2"},             {train, "--steps", "0"},
      {train, "--batch", "0"},               {train, "--ctx", "0"},
      {train, "--lr", "0"},                  {train, "--lr-final", "-1"},
      {train, "--warmup", "-1"},             {train, "--weight-decay", "-1"},
      {train, "--grad-clip", "-1"},          {train, "--eval-every", "-1"},
      {train, "--save-every", "-1"},         {train, "--val-tokens", "-1"},
      {train, "--layers", "0"},              {train, "--width", "0"},
      {train, "--head-size", "0"},           {train, "--seed", "-3"},
      {serve, "--port", "70000"},            {serve, "--parallel", "0"},
      {serve, "--state-cache-mb", "-1"},     {serve, "--states-mb", "0"},
      {serve, "--max-tokens-limit", "0"},    {serve, "--default-max-tokens", "-1"},
      {serve, "--queue", "-1"},              {serve, "--body-limit-mb", "0"},
      {serve, "--timeout-s", "0"},           {serve, "--top-p", "1.5"},
      {convert, "--seed", "-1"},             {quantize, "--seed", "1e3"},
      {train, "--iclr-mult", "-1"},          {group_word, "--len", "0"},
      {group_word, "--steps", "0"},          {group_word, "--stop-at", "1.5"},
      {group_word, "--lr", "-1"},            {mqar, "--width", "0"},
      {mqar, "--lrs", "0"},                  {mqar, "--pairs", "-4"},
      {ablation, "--seeds", "0"},            {ablation, "--ctx", "0"},
      {imatrix, "--ctx", "0"},               {imatrix, "--chunks", "-1"},
      {imatrix, "--threads", "-1"},
  };
  for (const BadFlag& c : cases) {
    std::vector<std::string> args = c.command;
    args.push_back(c.flag);
    args.push_back(c.value);
    SCOPED_TRACE(c.command[0] + " " + c.flag + " " + c.value);
    const auto r = Run(args);
    EXPECT_EQ(r.code, 2);
    EXPECT_NE(r.err.find("anser: error: " + c.flag + ": got " + c.value + ", must be"),
              std::string::npos)
        << r.err;
    const std::string command =
        c.command[0] == "experiment" ? "experiment " + c.command[1] : c.command[0];
    EXPECT_NE(r.err.find("run 'anser " + command + " --help'"), std::string::npos) << r.err;
    // Plain numbers: no 300-digit bound, no "0.000000".
    EXPECT_LE(LongestDigitRun(r.err), 20u) << r.err;
    EXPECT_EQ(r.err.find(".000000"), std::string::npos) << r.err;
    EXPECT_TRUE(r.out.empty());
  }
}

TEST_F(CliUsage, ValuesAtTheEndsOfTheirRangesAreAccepted) {
  const auto r = Run({"generate", "-m", kTiny, "-p", "ROMEO:", "-n", "0", "--top-p", "1",
                      "--min-p", "0", "--top-k", "0", "--temperature", "0", "--threads", "1",
                      "--penalty-decay", "1", "--seed", "18446744073709551615"});
  EXPECT_EQ(r.code, 0) << r.err;
}

TEST_F(CliUsage, MissingInputsAndUnknownCommandsAreUsageErrors) {
  for (const std::vector<std::string>& args :
       std::vector<std::vector<std::string>>{{"generate", "-m", kTiny},
                                             {"bench"},
                                             {"eval", "-m", kTiny},
                                             {"info"},
                                             {"no-such-command"},
                                             {"generate", "--no-such-flag"}}) {
    SCOPED_TRACE(args[0]);
    const auto r = Run(args);
    EXPECT_EQ(r.code, 2);
    EXPECT_EQ(r.err.rfind("anser: error: ", 0), 0u) << r.err;
  }
}

TEST_F(CliUsage, NoArgumentsPrintsTheHelpWithStatus2) {
  const auto r = Run({});
  EXPECT_EQ(r.code, 2);
  EXPECT_TRUE(r.out.empty());
  for (const char* command : {"generate", "chat", "serve", "train", "bench", "info"}) {
    EXPECT_NE(r.err.find(command), std::string::npos) << r.err;
  }
}

TEST_F(CliUsage, VersionNamesTheBuildAndTheKernelTable) {
  const auto text = Run({"--version"});
  EXPECT_EQ(text.code, 0);
  EXPECT_EQ(text.out.rfind(std::string("anser ") + ANSER_VERSION + " (commit ", 0), 0u) << text.out;
  EXPECT_NE(text.out.find("\nkernels: "), std::string::npos) << text.out;

  anser::testing::RunOptions forced;
  forced.env = {{"ANSER_KERNELS", "ref"}};
  const auto json = Run({"--version", "--format", "json"}, forced);
  ASSERT_EQ(json.code, 0) << json.err;
  const nlohmann::json v = nlohmann::json::parse(json.out);
  for (const char* field : {"version", "commit", "build_type", "compiler", "kernels"}) {
    ASSERT_TRUE(v.contains(field) && v[field].is_string()) << field;
    EXPECT_FALSE(v[field].get<std::string>().empty()) << field;
  }
  EXPECT_EQ(v["kernels"], "ref");
  ASSERT_TRUE(v["cpu_features"].is_array());
  for (const auto& f : v["cpu_features"]) EXPECT_TRUE(f.is_string());
  // Every x86-64 CPU Anser tables exist for has AVX2 listed when the default table is avx2 or
  // better: the feature list and the selected table agree.
  const auto unforced = nlohmann::json::parse(Run({"--version", "--format", "json"}).out);
  if (unforced["kernels"] != "ref") {
    const auto& features = unforced["cpu_features"];
    EXPECT_NE(std::find(features.begin(), features.end(), "avx2"), features.end());
  }
}

TEST_F(CliUsage, SystemReportMeasuresTheMachine) {
  const auto r = Run({"info", "--system", "--format", "json"});
  ASSERT_EQ(r.code, 0) << r.err;
  const nlohmann::json s = nlohmann::json::parse(r.out);
  EXPECT_GE(s["cores"].get<int>(), 1);
  EXPECT_GT(s["read_gb_s"].get<double>(), 0.0);
  EXPECT_GT(s["peak_gflop_s"].get<double>(), 0.0);
  EXPECT_TRUE(s.contains("kernels") && s.contains("cpu_features") && s.contains("commit"));
}

TEST_F(CliUsage, GenerateEchoesThePromptOnATerminalOnly) {
  const std::vector<std::string> args = {"generate", "-m", kTiny, "-p", "ROMEO:",
                                         "-n", "7", "--temperature", "0"};
  const auto piped = Run(args);
  ASSERT_EQ(piped.code, 0) << piped.err;
  ASSERT_FALSE(piped.out.empty());
  // A pipe gets the completion alone: the terminal shows the prompt, then the same completion.
  int status = 0;
  const std::string shown = RunOnTerminal(args, &status);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << shown;
  EXPECT_EQ(shown.rfind("ROMEO:" + piped.out, 0), 0u) << shown;
  // The speed report starts its own line even when the completion did not end one.
  EXPECT_NE(shown.find("\nprefill: "), std::string::npos) << shown;

  std::vector<std::string> quiet = args;
  quiet.push_back("--no-echo");
  const std::string unechoed = RunOnTerminal(quiet, &status);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << unechoed;
  EXPECT_EQ(unechoed.rfind(piped.out, 0), 0u) << unechoed;
}

}  // namespace
