// Streams a file into a temporary beside its destination and renames it into place only on
// Commit, so readers never see a half-written file and a failure leaves the old file intact.
//
// Test hook (the no-lost-data tests): with ANSER_TEST_KILL_AFTER_BYTES=N in the environment,
// the process sends itself SIGKILL once a writer has written N bytes of its file, as a crash
// or a kill -9 at that point of the write would, or on Commit of a file shorter than N (files
// whose size varies from run to run, such as a checkpoint recording its timings, are then still
// killed after their last byte); ANSER_TEST_KILL_FILE=SUFFIX limits that to destinations ending
// in SUFFIX.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "anser/status.h"
#include "io/byte_output.h"

namespace anser {

class AtomicFileWriter : public ByteOutput {
 public:
  AtomicFileWriter() = default;
  ~AtomicFileWriter() override;  // removes the temporary unless Commit succeeded
  AtomicFileWriter(const AtomicFileWriter&) = delete;
  AtomicFileWriter& operator=(const AtomicFileWriter&) = delete;

  // Creates a uniquely named temporary `<path>.tmp.XXXXXX` in the destination's folder.
  Status Open(const std::string& path);
  Status Write(const void* data, size_t size) override;
  uint64_t bytes_written() const override { return bytes_written_; }
  // fsync, rename over `path`, then fsync the folder so the rename itself is durable.
  Status Commit();

 private:
  void Discard();

  std::string path_;
  std::string tmp_path_;
  int fd_ = -1;
  uint64_t bytes_written_ = 0;
};

}  // namespace anser
