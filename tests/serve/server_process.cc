#include "server_process.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>

namespace anser::serve::testing {

std::unique_ptr<ServerProcess> ServerProcess::Start(const std::vector<std::string>& args) {
  // The server may close a connection before a client has sent its whole body (a 413): the
  // client's write must fail, not kill the test.
  signal(SIGPIPE, SIG_IGN);
  int pipe_fds[2];
  if (pipe(pipe_fds) != 0) {
    ADD_FAILURE() << "pipe: " << std::strerror(errno);
    return nullptr;
  }
  std::vector<std::string> argv = {ANSER_BINARY, "serve", "--host", "127.0.0.1", "--port", "0"};
  argv.insert(argv.end(), args.begin(), args.end());
  std::unique_ptr<ServerProcess> p(new ServerProcess());
  p->pid_ = fork();
  if (p->pid_ == 0) {
    // The server writes only to stderr; its stdout must not hold the test's own open.
    const int devnull = open("/dev/null", O_WRONLY);
    dup2(devnull, STDOUT_FILENO);
    dup2(pipe_fds[1], STDERR_FILENO);
    close(pipe_fds[0]);
    close(pipe_fds[1]);
    std::vector<char*> c_argv;
    for (std::string& a : argv) c_argv.push_back(a.data());
    c_argv.push_back(nullptr);
    execv(c_argv[0], c_argv.data());
    _exit(127);
  }
  close(pipe_fds[1]);
  p->reader_ = std::thread([raw = p.get(), fd = pipe_fds[0]] { raw->ReadLog(fd); });
  if (!p->WaitForLog("model ready:", std::chrono::minutes(1))) {
    std::string log;
    for (const std::string& line : p->Log()) log += line + "\n";
    ADD_FAILURE() << "the server did not become ready; its output:\n" << log;
    return nullptr;
  }
  for (const std::string& line : p->Log()) {
    const size_t at = line.find("listening on http://127.0.0.1:");
    if (at != std::string::npos) p->port_ = std::stoi(line.substr(at + std::strlen("listening on http://127.0.0.1:")));
  }
  EXPECT_GT(p->port_, 0);
  return p;
}

void ServerProcess::ReadLog(int fd) {
  std::string pending;
  char buf[4096];
  while (true) {
    const ssize_t n = read(fd, buf, sizeof(buf));
    if (n <= 0) break;
    pending.append(buf, static_cast<size_t>(n));
    size_t newline;
    while ((newline = pending.find('\n')) != std::string::npos) {
      {
        std::lock_guard lock(mu_);
        lines_.push_back(pending.substr(0, newline));
      }
      changed_.notify_all();
      pending.erase(0, newline + 1);
    }
  }
  close(fd);
  {
    std::lock_guard lock(mu_);
    eof_ = true;
  }
  changed_.notify_all();
}

bool ServerProcess::WaitForLog(const std::string& text, std::chrono::milliseconds limit) {
  std::unique_lock lock(mu_);
  const auto found = [&] {
    for (const std::string& line : lines_) {
      if (line.find(text) != std::string::npos) return true;
    }
    return false;
  };
  changed_.wait_for(lock, limit, [&] { return found() || eof_; });
  return found();
}

std::vector<std::string> ServerProcess::Log() const {
  std::lock_guard lock(mu_);
  return lines_;
}

int ServerProcess::Terminate(std::chrono::milliseconds limit) {
  if (exited_) return -1;
  kill(pid_, SIGTERM);
  // The child closes its stderr as it exits: wait for that, then reap it.
  {
    std::unique_lock lock(mu_);
    if (!changed_.wait_for(lock, limit, [&] { return eof_; })) return -1;
  }
  int status = 0;
  waitpid(pid_, &status, 0);
  exited_ = true;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

ServerProcess::~ServerProcess() {
  if (!exited_ && pid_ > 0) {
    if (Terminate(std::chrono::seconds(10)) < 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }
  if (reader_.joinable()) reader_.join();
}

}  // namespace anser::serve::testing
