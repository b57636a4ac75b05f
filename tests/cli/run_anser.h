// Runs the `anser` binary from a test: arguments, environment additions and a file-size limit,
// with stdin and stdout from/to files and the way it ended.
#pragma once

#include <sys/resource.h>

#include <map>
#include <string>
#include <vector>

namespace anser::testing {

struct RunOptions {
  std::map<std::string, std::string> env;  // set in the child
  rlim_t max_file_bytes = RLIM_INFINITY;   // RLIMIT_FSIZE, with SIGXFSZ ignored: a full disk
};

struct RunOutcome {
  bool killed = false;  // ended by SIGKILL
  int code = -1;        // exit status when it exited
  std::string out, err;
};

// Runs ANSER_BINARY with `args`; `scratch` is a folder for the captured output.
RunOutcome RunAnser(const std::vector<std::string>& args, const std::string& scratch,
                    const RunOptions& options = {});

}  // namespace anser::testing
