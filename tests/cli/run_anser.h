// Runs the `anser` binary from a test: arguments, stdin, environment additions and a file-size
// limit; returns its output and the way it ended.
#pragma once

#include <sys/resource.h>

#include <map>
#include <string>
#include <vector>

namespace anser::testing {

struct RunOptions {
  std::string input;                       // fed on stdin
  std::map<std::string, std::string> env;  // set in the child
  rlim_t max_file_bytes = RLIM_INFINITY;   // RLIMIT_FSIZE, with SIGXFSZ ignored: a full disk
};

struct RunOutcome {
  bool killed = false;  // ended by SIGKILL
  int code = -1;        // exit status when it exited
  std::string out, err;
};

// Runs ANSER_BINARY with `args`; stdin, stdout and stderr go through files in `scratch`, so no
// pipe can fill up and block the child. A child still running after 60 s is killed and its
// test fails instead of stalling the suite.
RunOutcome RunAnser(const std::vector<std::string>& args, const std::string& scratch,
                    const RunOptions& options = {});

}  // namespace anser::testing
