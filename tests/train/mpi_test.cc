// `anser train` under `mpirun --oversubscribe -np N` on tiny models, against the same run in one
// process: the loss curve and model.pth agree within 1e-4 relative (only the order of the float
// sums differs), two runs with the same N are bitwise identical, fine-tuning and state tuning
// work the same way, a batch that does not divide is refused, killing one rank ends the job
// with an error within 10 s, and one process resumes the checkpoint of two.
// Registered only in builds with MPI (tests/train/CMakeLists.txt), label mpi.
#include <dirent.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "io/formats.h"
#include "test_files.h"
#include "train/train_log.h"

namespace anser {
namespace {

using Clock = std::chrono::steady_clock;
constexpr double kTolerance = 1e-4;  // relative, the bound for N = 1 vs N > 1

// A child process in a process group of its own (mpirun and its ranks), stdout and stderr in
// files of `dir`; killed with its group if a test leaves it running.
class Child {
 public:
  Child(std::vector<std::string> argv, const std::string& dir) : err_path_(dir + "/stderr") {
    std::vector<char*> c_argv;
    for (std::string& a : argv) c_argv.push_back(a.data());
    c_argv.push_back(nullptr);
    pid_ = fork();
    if (pid_ == 0) {
      setpgid(0, 0);
      const int in = open("/dev/null", O_RDONLY);  // mpirun forwards stdin to rank 0
      const int out = open((dir + "/stdout").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
      const int err = open(err_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
      if (in < 0 || out < 0 || err < 0) _exit(126);
      dup2(in, STDIN_FILENO);
      dup2(out, STDOUT_FILENO);
      dup2(err, STDERR_FILENO);
      // What Open MPI needs in a container: no CMA single copy (ptrace is not allowed), shared
      // memory and loopback transports only.
      setenv("OMPI_MCA_btl_vader_single_copy_mechanism", "none", 1);
      setenv("OMPI_MCA_btl", "self,vader", 1);
      execv(c_argv[0], c_argv.data());
      _exit(127);
    }
    setpgid(pid_, pid_);
  }
  ~Child() {
    if (pid_ > 0) {
      kill(-pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }

  // The exit status, or −1 (the group killed) when it runs past `limit`.
  int Wait(std::chrono::milliseconds limit) {
    const auto deadline = Clock::now() + limit;
    int status = 0;
    while (waitpid(pid_, &status, WNOHANG) == 0) {
      if (Clock::now() > deadline) {
        kill(-pid_, SIGKILL);
        waitpid(pid_, nullptr, 0);
        pid_ = -1;
        return -1;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }

  // The process of mpirun's rank `rank` (a child of mpirun with that OMPI_COMM_WORLD_RANK).
  pid_t RankPid(int rank) const {
    const std::string want = "OMPI_COMM_WORLD_RANK=" + std::to_string(rank);
    DIR* proc = opendir("/proc");
    pid_t found = -1;
    while (dirent* e = readdir(proc)) {
      const pid_t pid = static_cast<pid_t>(std::atoi(e->d_name));
      if (pid <= 0) continue;
      const std::string stat = testing::ReadAll("/proc/" + std::string(e->d_name) + "/stat");
      const size_t paren = stat.rfind(')');
      if (paren == std::string::npos) continue;
      int ppid = 0;
      if (std::sscanf(stat.c_str() + paren + 2, "%*c %d", &ppid) != 1 || ppid != pid_) continue;
      std::string env = testing::ReadAll("/proc/" + std::string(e->d_name) + "/environ");
      std::replace(env.begin(), env.end(), '\0', '\n');
      if (("\n" + env).find("\n" + want + "\n") != std::string::npos) found = pid;
    }
    closedir(proc);
    return found;
  }

  std::string Err() const { return testing::ReadAll(err_path_); }

 private:
  pid_t pid_ = -1;
  std::string err_path_;
};

class MpiTrainTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::ScratchPath("mpi");
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    // A few kilobytes of repetitive text: the model learns it within a handful of steps.
    std::string text;
    const char* lines[] = {"to be or not to be, that is the question.\n",
                           "the rain in spain stays mainly in the plain.\n",
                           "all that glitters is not gold.\n"};
    for (int i = 0; i < 90; ++i) text += lines[i % 3];
    testing::WriteAll(dir_ + "/corpus.txt", text);
  }

  // The command line of `anser train` with `args` into dir_/out, under mpirun with `ranks`
  // processes (0: plain, without mpirun).
  std::vector<std::string> TrainCommand(int ranks, const std::string& out,
                                        const std::vector<std::string>& args) const {
    std::vector<std::string> argv;
    if (ranks > 0) {
      argv = {ANSER_MPIRUN, "--oversubscribe",    "--allow-run-as-root", "--bind-to", "none",
              "-np",        std::to_string(ranks)};
    }
    argv.insert(argv.end(), {ANSER_BINARY, "train", "--data", dir_ + "/corpus.txt", "--out",
                             dir_ + "/" + out, "--threads", "1"});
    argv.insert(argv.end(), args.begin(), args.end());
    std::filesystem::create_directories(dir_ + "/logs_" + out);
    return argv;
  }

  // Runs TrainCommand to its end; returns the exit status (−1: ran past a minute).
  int Train(int ranks, const std::string& out, const std::vector<std::string>& args,
            std::string* err = nullptr) {
    Child child(TrainCommand(ranks, out, args), dir_ + "/logs_" + out);
    const int code = child.Wait(std::chrono::minutes(1));
    if (err != nullptr) *err = child.Err();
    if (code != 0 && err == nullptr) ADD_FAILURE() << out << ":\n" << child.Err();
    return code;
  }

  std::vector<LogRow> Log(const std::string& out) {
    auto rows = ReadLog(dir_ + "/" + out + "/log.csv");
    EXPECT_TRUE(rows.ok()) << rows.message();
    return rows.ok() ? rows.value() : std::vector<LogRow>();
  }

  std::string dir_;
};

std::vector<std::string> TinyRun(int steps) {
  return {"--layers",     "2",    "--width",      "32",
          "--head-size",  "16",   "--steps",      std::to_string(steps),
          "--batch",      "4",    "--ctx",        "16",
          "--lr",         "1e-2", "--lr-final",   "1e-3",
          "--warmup",     "2",    "--eval-every", "5",
          "--save-every", "5",    "--val-tokens", "256",
          "--seed",       "7"};
}

double Relative(double a, double b) { return std::abs(a - b) / std::max(std::abs(a), 1e-30); }

// Row by row: the same steps, tokens and learning rates, and over the first `compared` steps
// the training and validation losses within kTolerance. (Later the runs drift apart as any two
// summation orders do: by step 20 of the killed-rank test's run, 1e-4 relative.)
void ExpectSameCurve(const std::vector<LogRow>& want, const std::vector<LogRow>& got,
                     size_t compared = 10) {
  ASSERT_EQ(want.size(), got.size());
  for (size_t i = 0; i < want.size(); ++i) {
    EXPECT_EQ(want[i].step, got[i].step);
    EXPECT_EQ(want[i].tokens, got[i].tokens);
    EXPECT_EQ(want[i].lr, got[i].lr);
    EXPECT_EQ(want[i].val_loss < 0, got[i].val_loss < 0) << "step " << want[i].step;
    if (i >= compared) continue;
    EXPECT_LE(Relative(want[i].loss, got[i].loss), kTolerance) << "step " << want[i].step;
    if (want[i].val_loss >= 0) {
      EXPECT_LE(Relative(want[i].val_loss, got[i].val_loss), kTolerance) << "step " << want[i].step;
    }
  }
}

// Two .pth files hold the same names and shapes, and their float32 values, taken together as one
// vector, agree within kTolerance in relative L2 norm. (Single values can differ more: Adam's
// step is about ±lr wherever a gradient is tiny and made of cancelling terms, as in the LoRA
// matrices that start at zero, so the summation order there moves them by up to 1e-3 of their
// tensor's largest value in 10 steps; see docs/SCALING.md.)
void ExpectSameTensors(const std::string& want_path, const std::string& got_path) {
  auto want = LoadTorchPth(want_path);
  auto got = LoadTorchPth(got_path);
  ASSERT_TRUE(want.ok() && got.ok()) << want_path << " / " << got_path;
  ASSERT_EQ(want->tensors().size(), got->tensors().size());
  double diff = 0.0, norm = 0.0;
  for (const TensorView& w : want->tensors()) {
    const TensorView* g = got->Find(w.name);
    ASSERT_NE(g, nullptr) << w.name;
    ASSERT_EQ(w.shape, g->shape) << w.name;
    if (w.dtype != DType::kF32) continue;
    const auto* a = static_cast<const float*>(w.data);
    const auto* b = static_cast<const float*>(g->data);
    for (int64_t i = 0; i < w.numel(); ++i) {
      diff += (static_cast<double>(a[i]) - b[i]) * (static_cast<double>(a[i]) - b[i]);
      norm += static_cast<double>(a[i]) * a[i];
    }
  }
  EXPECT_GT(norm, 0.0);
  EXPECT_LE(std::sqrt(diff), kTolerance * std::sqrt(norm)) << got_path;
}

TEST_F(MpiTrainTest, RanksMatchOneProcessAndRepeatBitwise) {
  ASSERT_EQ(Train(0, "one", TinyRun(10)), 0);
  ASSERT_EQ(Train(2, "two", TinyRun(10)), 0);
  ASSERT_EQ(Train(2, "two_again", TinyRun(10)), 0);
  ASSERT_EQ(Train(4, "four", TinyRun(10)), 0);
  const std::vector<LogRow> one = Log("one");
  ASSERT_EQ(one.size(), 10u);
  EXPECT_LT(one.back().loss, one.front().loss);  // it learns
  ExpectSameCurve(one, Log("two"));
  ExpectSameCurve(one, Log("four"));
  ExpectSameTensors(dir_ + "/one/model.pth", dir_ + "/two/model.pth");
  ExpectSameTensors(dir_ + "/one/model.pth", dir_ + "/four/model.pth");
  // The same N: the same bits (the timing columns aside).
  const std::vector<LogRow> two = Log("two"), again = Log("two_again");
  ASSERT_EQ(two.size(), again.size());
  for (size_t i = 0; i < two.size(); ++i) {
    EXPECT_EQ(two[i].loss, again[i].loss);
    EXPECT_EQ(two[i].val_loss, again[i].val_loss);
  }
  EXPECT_EQ(testing::ReadAll(dir_ + "/two/model.pth"),
            testing::ReadAll(dir_ + "/two_again/model.pth"));
}

TEST_F(MpiTrainTest, FineTuningAndStateTuningMatchOneProcess) {
  ASSERT_EQ(Train(0, "base", TinyRun(4)), 0);
  const std::string base = dir_ + "/base/model.pth";
  const std::vector<std::string> tune = {
      "--init", base,   "--steps",      "6", "--batch",      "4",   "--ctx",  "16",
      "--lr",   "1e-2", "--eval-every", "3", "--val-tokens", "256", "--seed", "3",
      "--dropout", "0.2"};  // each process draws its own rows' masks, as one process would
  std::vector<std::string> state_tune = tune;
  state_tune.insert(state_tune.end(), {"--tune", "state"});
  ASSERT_EQ(Train(0, "fine_one", tune), 0);
  ASSERT_EQ(Train(2, "fine_two", tune), 0);
  ASSERT_EQ(Train(0, "state_one", state_tune), 0);
  ASSERT_EQ(Train(2, "state_two", state_tune), 0);
  ExpectSameCurve(Log("fine_one"), Log("fine_two"));
  ExpectSameTensors(dir_ + "/fine_one/model.pth", dir_ + "/fine_two/model.pth");
  ExpectSameCurve(Log("state_one"), Log("state_two"));
  ExpectSameTensors(dir_ + "/state_one/state.pth", dir_ + "/state_two/state.pth");
}

TEST_F(MpiTrainTest, RefusesABatchThatDoesNotDivide) {
  std::vector<std::string> args = TinyRun(2);
  args[std::find(args.begin(), args.end(), "--batch") - args.begin() + 1] = "3";
  std::string err;
  EXPECT_NE(Train(2, "odd", args, &err), 0);
  EXPECT_NE(err.find("--batch 3 does not divide among the 2 processes"), std::string::npos) << err;
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/odd/model.pth"));
}

// Killing rank 1 mid-run ends mpirun with an error within 10 s; the run's last checkpoint (two
// processes, step 3, 6 or 9) then resumes in one process and continues the curve of an
// uninterrupted one-process run: within kTolerance over the first 10 steps, where the curves of
// N = 1 and 2 agree; the steps after it (only there to keep the run going until the kill) are
// checked for their count, tokens and learning rates.
TEST_F(MpiTrainTest, KilledRankEndsTheJobAndOneProcessResumes) {
  // Steps long enough (a wider model) that the run is still going when the kill comes.
  const std::vector<std::string> run = {
      "--layers", "2", "--width",      "64",  "--head-size",  "16",   "--steps",      "40",
      "--batch",  "4", "--ctx",        "128", "--lr",         "1e-2", "--lr-final",   "1e-3",
      "--warmup", "2", "--eval-every", "5",   "--save-every", "3",    "--val-tokens", "256",
      "--seed",   "11"};
  ASSERT_EQ(Train(0, "whole", run), 0);
  {
    Child job(TrainCommand(2, "cut", run), dir_ + "/logs_cut");
    // Row 4 is appended after the checkpoint of step 3 was written (renamed into place).
    const auto deadline = Clock::now() + std::chrono::minutes(1);
    while (Clock::now() < deadline) {
      auto rows = ReadLog(dir_ + "/cut/log.csv");
      if (rows.ok() && rows->size() >= 4) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    const pid_t rank1 = job.RankPid(1);
    ASSERT_GT(rank1, 0) << job.Err();
    auto rows = ReadLog(dir_ + "/cut/log.csv");
    ASSERT_TRUE(rows.ok());
    // The checkpoint resumed below is then at step 9 at the latest: the one process takes over
    // within the 10 steps compared.
    ASSERT_LT(rows->size(), 10u) << "the run went too far before the kill: make its steps longer";
    ASSERT_EQ(kill(rank1, SIGKILL), 0);
    const auto killed_at = Clock::now();
    const int code = job.Wait(std::chrono::seconds(30));
    const double seconds = std::chrono::duration<double>(Clock::now() - killed_at).count();
    EXPECT_NE(code, 0);
    EXPECT_NE(code, -1) << "mpirun still ran 30 s after a rank was killed";
    EXPECT_LT(seconds, 10.0);
    EXPECT_NE(job.Err().find("rank 1"), std::string::npos) << job.Err();  // mpirun names it
  }
  std::string err;
  ASSERT_EQ(Train(0, "cut", {"--resume"}, &err), 0) << err;
  ExpectSameCurve(Log("whole"), Log("cut"));
}

}  // namespace
}  // namespace anser
