// Writes a zip archive of stored entries the way PyTorch's `torch.save` does (miniz as torch
// configures it): data descriptors after each entry, every entry's data 64-byte aligned by
// padding in the local extra field, ZIP64 end records always, and ZIP64 extra fields for
// entries whose size or offset reaches 4 GiB.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "anser/status.h"
#include "io/byte_output.h"

namespace anser {

class ZipWriter {
 public:
  // `out` must be empty; it must outlive the writer.
  explicit ZipWriter(ByteOutput* out) : out_(out) {}

  // Streams `size` bytes from `data` as one stored entry; the bytes are not copied.
  Status AddEntry(std::string_view name, const void* data, uint64_t size);
  // Writes the central directory and end records. The caller then commits `out` (a file).
  Status Finish();

 private:
  struct CentralRecord {
    std::string name;
    uint32_t crc = 0;
    uint64_t size = 0;
    uint64_t local_offset = 0;
  };

  ByteOutput* out_;
  std::vector<CentralRecord> records_;
};

}  // namespace anser
