// A private, read-only memory mapping of a whole file. Move-only; unmaps on destruction.
// MakeWritable turns ranges of it copy-on-write, so a reader may rearrange those bytes in place
// (the kernels' packing does) while the file itself never changes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "anser/status.h"

namespace anser {

class MappedFile {
 public:
  static Result<std::shared_ptr<MappedFile>> Open(const std::string& path);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }
  const std::string& path() const { return path_; }

 private:
  MappedFile(std::string path, const uint8_t* data, size_t size)
      : path_(std::move(path)), data_(data), size_(size) {}
  std::string path_;
  const uint8_t* data_;
  size_t size_;
};

// Makes the pages under [data, data + size), of a MappedFile or of the heap, writable and gives
// them their private copies now, in one call (one fault per page, each with a cross-thread TLB
// shootdown, otherwise). Returns false, changing nothing, where they cannot be made writable.
bool MakeWritable(const void* data, size_t size);

// Drops the pages wholly inside [data, data + size) of a MappedFile from this process's memory;
// a later read faults them in again from the file, so the bytes seen never change. Only for
// ranges never made writable: MakeWritable's private copies would be lost.
void DropFilePages(const void* data, size_t size);

// Writes `bytes` to `path` atomically: a temporary file beside it, fsync, then rename.
Status WriteFileAtomically(const std::string& path, const void* bytes, size_t size);

}  // namespace anser
