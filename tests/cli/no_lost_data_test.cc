// No lost data, proven: `anser convert`, `anser quantize` and `anser train` killed with SIGKILL
// at many points of writing their output (the ANSER_TEST_KILL_AFTER_BYTES hook of
// AtomicFileWriter) leave each destination either as it was (absent, or the old file) or as the
// complete new file, never a partial one; a clean run leaves no temporary file behind; a full
// disk (RLIMIT_FSIZE) gives a clear error and leaves the previous file intact.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <string>
#include <vector>

#include "io/formats.h"
#include "run_anser.h"
#include "test_files.h"
#include "train/resume_file.h"

namespace {

namespace fs = std::filesystem;

const std::string kShared = ANSER_SHARED_DIR;
const std::string kTiny = kShared + "/fixtures/tiny-rwkv7-834K/model.fp32.pth";
const std::string kTinyBf16 = kShared + "/fixtures/tiny-rwkv7-834K/model.bf16.pth";

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// Every regular file under `dir`, by path relative to it, with its bytes.
std::map<std::string, std::string> Snapshot(const fs::path& dir) {
  std::map<std::string, std::string> files;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (e.is_regular_file()) files[fs::relative(e.path(), dir).string()] = ReadFile(e.path());
  }
  return files;
}

class NoLostData : public anser::testing::FreshDirTest {
 protected:
  fs::path Path(const std::string& name) const { return dir_ / name; }

  anser::testing::RunOutcome Run(const std::vector<std::string>& args,
                                 anser::testing::RunOptions options = {}) {
    return anser::testing::RunAnser(args, dir_.string(), options);
  }
  // Options that kill the run once `n` bytes of the file named `file` are written.
  static anser::testing::RunOptions KillAfter(size_t n, const std::string& file) {
    anser::testing::RunOptions options;
    options.env = {{"ANSER_TEST_KILL_AFTER_BYTES", std::to_string(n)},
                   {"ANSER_TEST_KILL_FILE", file}};
    return options;
  }

  // Files in `dir` whose name holds ".tmp.": the temporaries of the atomic writers.
  static std::vector<std::string> Temporaries(const fs::path& dir) {
    std::vector<std::string> found;
    for (const auto& e : fs::recursive_directory_iterator(dir)) {
      if (e.path().filename().string().find(".tmp.") != std::string::npos)
        found.push_back(e.path().string());
    }
    return found;
  }

  // Kills a run of `args` writing `out` after N bytes of it, for N spread over the new file's
  // whole size and its last byte: `out` must each time be exactly `old` (nothing: absent).
  void KillAtManyPoints(const std::vector<std::string>& args, const fs::path& out,
                        const std::string* old, size_t new_size) {
    std::vector<size_t> points = {1, new_size - 1, new_size};
    for (int i = 1; i < 12; ++i) points.push_back(new_size * static_cast<size_t>(i) / 12);
    for (size_t n : points) {
      SCOPED_TRACE("killed after " + std::to_string(n) + " of " + std::to_string(new_size) +
                   " bytes");
      const auto o = Run(args, KillAfter(n, out.filename().string()));
      ASSERT_TRUE(o.killed) << "exit " << o.code << ": " << o.err;
      if (old == nullptr) {
        EXPECT_FALSE(fs::exists(out));
      } else {
        EXPECT_TRUE(ReadFile(out) == *old) << "the destination changed";
      }
    }
  }

  void KillDuringWriteOfOneFile(const std::string& command, const std::string& extra_flag) {
    const fs::path out = Path(command + ".out.gguf");
    std::vector<std::string> args = {command, kTiny, out.string()};
    if (!extra_flag.empty()) args.push_back(extra_flag);
    // A clean run: the complete new file, and no temporary left.
    const auto clean = Run(args);
    ASSERT_EQ(clean.code, 0) << clean.err;
    const std::string fresh = ReadFile(out);
    ASSERT_GT(fresh.size(), 1000u);
    EXPECT_TRUE(Temporaries(dir_).empty());
    // Killed with no file there before: the destination stays absent.
    fs::remove(out);
    KillAtManyPoints(args, out, nullptr, fresh.size());
    // Killed while replacing an old file (the bf16 model's): the old file stays whole.
    args.push_back("--force");
    std::vector<std::string> old_args = {command, kTinyBf16, out.string()};
    if (!extra_flag.empty()) old_args.push_back(extra_flag);
    ASSERT_EQ(Run(old_args).code, 0);
    const std::string old = ReadFile(out);
    ASSERT_NE(old, fresh);
    KillAtManyPoints(args, out, &old, fresh.size());
    // And once it runs to the end, the new file is complete and no temporary stays.
    for (const std::string& t : Temporaries(dir_)) fs::remove(t);  // left by the kills
    ASSERT_EQ(Run(args).code, 0);
    EXPECT_TRUE(ReadFile(out) == fresh);
    EXPECT_TRUE(Temporaries(dir_).empty());
  }

};

TEST_F(NoLostData, ConvertKilledAtManyPoints) { KillDuringWriteOfOneFile("convert", ""); }

TEST_F(NoLostData, QuantizeKilledAtManyPoints) {
  KillDuringWriteOfOneFile("quantize", "--dtype=q8_0");
}

TEST_F(NoLostData, TrainCheckpointsKilledAtManyPoints) {
  const fs::path data = Path("data.txt");
  std::ofstream(data) << ReadFile(kShared + "/data/tinyshakespeare.txt").substr(0, 20000);
  // A run into `out` of `steps` steps, checkpointing after every step.
  const auto train = [&](const fs::path& out, int steps) {
    return std::vector<std::string>{"train",
                                    "--data",
                                    data.string(),
                                    "--out",
                                    out.string(),
                                    "--layers",
                                    "1",
                                    "--width",
                                    "32",
                                    "--head-size",
                                    "32",
                                    "--batch",
                                    "1",
                                    "--ctx",
                                    "16",
                                    "--steps",
                                    std::to_string(steps),
                                    "--threads",
                                    "1",
                                    "--save-every",
                                    "1"};
  };
  // The old checkpoint: a run of 2 steps. The new one: a run of 4 steps into the same folder.
  const fs::path out = Path("old");
  ASSERT_EQ(Run(train(out, 2)).code, 0) << ReadFile(Path("stderr"));
  EXPECT_TRUE(Temporaries(out).empty());
  const std::map<std::string, std::string> old = Snapshot(out);
  ASSERT_TRUE(old.count("model.pth") && old.count("resume/trainer.bin") && old.count("log.csv"));
  const fs::path reference = Path("new");
  ASSERT_EQ(Run(train(reference, 4)).code, 0) << ReadFile(Path("stderr"));
  EXPECT_TRUE(Temporaries(reference).empty());
  const std::map<std::string, std::string> fresh = Snapshot(reference);
  ASSERT_TRUE(fresh.at("model.pth") != old.at("model.pth"));
  const std::string log_header = old.at("log.csv").substr(0, old.at("log.csv").find('\n') + 1);

  for (const std::string file : {"model.pth", "trainer.bin", "log.csv"}) {
    const std::string key = file == "trainer.bin" ? "resume/trainer.bin" : file;
    const size_t size = fresh.at(key).size();
    for (size_t n : {size_t{1}, size / 3, size / 2, size - 1, size}) {
      if (n == 0) continue;
      SCOPED_TRACE(file + " killed after " + std::to_string(n) + " of " + std::to_string(size) +
                   " bytes");
      const fs::path run = Path("killed");
      fs::remove_all(run);
      fs::copy(out, run, fs::copy_options::recursive);
      const auto o = Run(train(run, 4), KillAfter(n, file));
      if (!o.killed) {
        // The log grows with every step: its writes may all be shorter than n.
        EXPECT_TRUE(file == "log.csv") << "exit " << o.code << ": " << o.err;
      }
      // Each file is the old one or a complete newer one (it loads; a log starts with the
      // header and ends with a whole line). Killed within the first half of the file, the kill
      // came during its first write of this run, so the file must be exactly the old one. A
      // temporary may stay, never under a checkpoint's name.
      for (const auto& [name, bytes] : Snapshot(run)) {
        if (name.find(".tmp.") != std::string::npos) continue;
        ASSERT_TRUE(old.count(name)) << "unexpected file " << name;
        if (name == key && file != "log.csv" && n <= size / 2) {
          EXPECT_TRUE(bytes == old.at(name)) << name << " changed";
        } else if (name == "log.csv") {
          EXPECT_TRUE(bytes.rfind(log_header, 0) == 0 && bytes.back() == '\n')
              << "log.csv was left partial";
        } else if (name == "model.pth") {
          EXPECT_TRUE(anser::LoadTorchPth((run / name).string()).ok())
              << "model.pth was left partial";
        } else {
          EXPECT_TRUE(anser::ReadResumeFile((run / name).string()).ok())
              << name << " was left partial";
        }
      }
    }
  }
}

TEST_F(NoLostData, FullDiskGivesAClearErrorAndKeepsThePreviousFile) {
  const fs::path out = Path("full.gguf");
  ASSERT_EQ(Run({"convert", kTinyBf16, out.string()}).code, 0);
  const std::string old = ReadFile(out);
  // Room for 64 KiB: the new file (over 1 MB) cannot be written.
  anser::testing::RunOptions full_disk;
  full_disk.max_file_bytes = 64 * 1024;
  const auto o = Run({"convert", kTiny, out.string(), "--force"}, full_disk);
  EXPECT_EQ(o.code, 1);
  EXPECT_NE(o.err.find("anser: error: cannot write '" + out.string() + ".tmp."), std::string::npos)
      << o.err;
  EXPECT_NE(o.err.find("File too large"), std::string::npos) << o.err;
  EXPECT_TRUE(ReadFile(out) == old);
  EXPECT_TRUE(Temporaries(dir_).empty());
}

}  // namespace
