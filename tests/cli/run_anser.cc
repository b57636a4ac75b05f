#include "run_anser.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <thread>

namespace anser::testing {
namespace {

constexpr std::chrono::seconds kChildTimeout{60};

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

}  // namespace

RunOutcome RunAnser(const std::vector<std::string>& args, const std::string& scratch,
                    const RunOptions& options) {
  std::vector<std::string> argv_strings = {ANSER_BINARY};
  argv_strings.insert(argv_strings.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& s : argv_strings) argv.push_back(s.data());
  argv.push_back(nullptr);
  const std::string in = scratch + "/stdin", out = scratch + "/stdout", err = scratch + "/stderr";
  std::ofstream(in, std::ios::binary) << options.input;
  const pid_t pid = fork();
  if (pid == 0) {
    const int fd_in = open(in.c_str(), O_RDONLY);
    const int fd_out = open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    const int fd_err = open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd_in < 0 || fd_out < 0 || fd_err < 0) _exit(126);
    dup2(fd_in, STDIN_FILENO);
    dup2(fd_out, STDOUT_FILENO);
    dup2(fd_err, STDERR_FILENO);
    for (const auto& [name, value] : options.env) setenv(name.c_str(), value.c_str(), 1);
    if (options.max_file_bytes != RLIM_INFINITY) {
      // A write past the limit then fails with EFBIG, as on a full disk, instead of raising
      // SIGXFSZ, which would end the process.
      signal(SIGXFSZ, SIG_IGN);
      const rlimit r{options.max_file_bytes, options.max_file_bytes};
      if (setrlimit(RLIMIT_FSIZE, &r) != 0) _exit(125);
    }
    execv(argv[0], argv.data());
    _exit(127);
  }
  int status = 0;
  const auto deadline = std::chrono::steady_clock::now() + kChildTimeout;
  pid_t done = 0;
  while (pid > 0 && (done = waitpid(pid, &status, WNOHANG)) == 0 &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  if (pid > 0 && done == 0) {
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
  }
  RunOutcome o;
  o.killed = WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
  if (done == pid && WIFEXITED(status)) o.code = WEXITSTATUS(status);
  o.out = ReadFile(out);
  o.err = ReadFile(err);
  if (done == 0) o.err += "\n[test] killed after " + std::to_string(kChildTimeout.count()) + " s";
  return o;
}

}  // namespace anser::testing
