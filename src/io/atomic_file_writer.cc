#include "io/atomic_file_writer.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string_view>
#include <vector>

namespace anser {
namespace {

// "<what> '<file>': <errno text>".
Status SystemError(std::string_view what, const std::string& file) {
  std::string message(what);
  message.append(" '").append(file).append("': ").append(std::strerror(errno));
  return Status::Error(std::move(message));
}

// The test hook: ANSER_TEST_KILL_AFTER_BYTES (0 when unset), and ANSER_TEST_KILL_FILE, a suffix
// the destination must end with for the hook to apply (any file when unset). Read once.
struct KillHook {
  uint64_t after_bytes = 0;
  std::string file_suffix;
};
const KillHook& TestKillHook() {
  static const KillHook hook = [] {
    KillHook h;
    if (const char* v = std::getenv("ANSER_TEST_KILL_AFTER_BYTES")) h.after_bytes = std::strtoull(v, nullptr, 10);
    if (const char* v = std::getenv("ANSER_TEST_KILL_FILE")) h.file_suffix = v;
    return h;
  }();
  return hook;
}

}  // namespace

AtomicFileWriter::~AtomicFileWriter() { Discard(); }

void AtomicFileWriter::Discard() {
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
  }
  if (!tmp_path_.empty()) {
    ::unlink(tmp_path_.c_str());
    tmp_path_.clear();
  }
}

Status AtomicFileWriter::Open(const std::string& path) {
  Discard();
  path_ = path;
  std::string templ = path + ".tmp.XXXXXX";
  std::vector<char> buf(templ.begin(), templ.end());
  buf.push_back('\0');
  fd_ = ::mkstemp(buf.data());
  if (fd_ < 0) return SystemError("cannot create a temporary file beside", path);
  tmp_path_ = buf.data();
  // mkstemp creates 0600; a saved model should be as readable as any other file written here.
  ::fchmod(fd_, 0644);
  bytes_written_ = 0;
  return Status::Ok();
}

Status AtomicFileWriter::Write(const void* data, size_t size) {
  if (fd_ < 0) return Status::Error("write to '" + path_ + "' after it was closed");
  const auto* p = static_cast<const uint8_t*>(data);
  size_t left = size;
  const KillHook& hook = TestKillHook();
  const bool kill = hook.after_bytes > 0 && bytes_written_ + size >= hook.after_bytes &&
                    std::string_view(path_).ends_with(hook.file_suffix);
  if (kill) left = static_cast<size_t>(hook.after_bytes - bytes_written_);
  while (left > 0) {
    // Bounded chunks: some kernels cap a single write near 2 GiB.
    const size_t chunk = left < (size_t{1} << 30) ? left : (size_t{1} << 30);
    const ssize_t n = ::write(fd_, p, chunk);
    if (n < 0) {
      if (errno == EINTR) continue;
      return SystemError("cannot write", tmp_path_);
    }
    p += n;
    left -= static_cast<size_t>(n);
  }
  if (kill) ::kill(::getpid(), SIGKILL);
  bytes_written_ += size;
  return Status::Ok();
}

Status AtomicFileWriter::Commit() {
  if (fd_ < 0) return Status::Error("commit of '" + path_ + "' after it was closed");
  const KillHook& hook = TestKillHook();
  if (hook.after_bytes > 0 && std::string_view(path_).ends_with(hook.file_suffix))
    ::kill(::getpid(), SIGKILL);
  if (::fsync(fd_) != 0) {
    return SystemError("cannot flush", tmp_path_);
  }
  const int fd = fd_;
  fd_ = -1;
  if (::close(fd) != 0) {
    return SystemError("cannot close", tmp_path_);
  }
  if (::rename(tmp_path_.c_str(), path_.c_str()) != 0) {
    return SystemError("cannot rename '" + tmp_path_ + "' to", path_);
  }
  tmp_path_.clear();
  std::filesystem::path dir = std::filesystem::path(path_).parent_path();
  if (dir.empty()) dir = std::filesystem::path(".");
  const int dir_fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd >= 0) {
    // Best effort: the data is already safe; this only makes the new name survive a crash.
    ::fsync(dir_fd);
    ::close(dir_fd);
  }
  return Status::Ok();
}

}  // namespace anser
