// `anser serve` as a child process for tests: started on a free loopback port, ready once it
// says the model is loaded, stopped with SIGTERM.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace anser::serve::testing {

class ServerProcess {
 public:
  // Runs ANSER_BINARY serve ARGS --port 0 --host 127.0.0.1; returns once it serves the model, or
  // null (with the reason in a gtest failure) if it exits first or takes over a minute.
  static std::unique_ptr<ServerProcess> Start(const std::vector<std::string>& args);
  ~ServerProcess();

  int port() const { return port_; }
  pid_t pid() const { return pid_; }
  // Sends SIGTERM and waits up to `limit` for the exit; returns the exit status (-1 if it did not exit).
  int Terminate(std::chrono::milliseconds limit);
  // Every line the server wrote to stderr so far.
  std::vector<std::string> Log() const;
  // Waits up to `limit` for a stderr line containing `text`.
  bool WaitForLog(const std::string& text, std::chrono::milliseconds limit);

 private:
  ServerProcess() = default;
  void ReadLog(int fd);

  pid_t pid_ = -1;
  int port_ = 0;
  bool exited_ = false;
  std::thread reader_;
  mutable std::mutex mu_;
  std::condition_variable changed_;
  std::vector<std::string> lines_;
  bool eof_ = false;
};

}  // namespace anser::serve::testing
