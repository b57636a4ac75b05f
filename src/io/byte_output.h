// Where a writer's bytes go: a file being written atomically, or memory.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "anser/status.h"

namespace anser {

class ByteOutput {
 public:
  virtual ~ByteOutput() = default;
  virtual Status Write(const void* data, size_t size) = 0;
  virtual uint64_t bytes_written() const = 0;
};

// Collects the bytes in a string (state files served over HTTP, tests).
class StringOutput : public ByteOutput {
 public:
  Status Write(const void* data, size_t size) override {
    bytes_.append(static_cast<const char*>(data), size);
    return Status::Ok();
  }
  uint64_t bytes_written() const override { return bytes_.size(); }
  std::string Take() { return std::move(bytes_); }

 private:
  std::string bytes_;
};

}  // namespace anser
