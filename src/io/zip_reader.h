// Reads the central directory of a zip archive held in memory (typically a file mapping), for
// formats that store uncompressed records in a zip (PyTorch's `torch.save`). Handles ZIP64.
// Every offset and size is checked against the buffer, so corrupt or hostile archives give an
// error, never an out-of-bounds read.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "anser/status.h"

namespace anser {

struct ZipEntry {
  std::string name;
  uint64_t data_offset = 0;  // first byte of the stored data within the buffer
  uint64_t size = 0;         // bytes of stored data; data_offset + size <= buffer size
};

// Lists the entries of the archive in `data[0, size)`. Only stored (uncompressed, unencrypted)
// entries are accepted: any other entry is an error naming it, since tensor data must be
// readable in place. Messages do not name the file; callers add that.
Result<std::vector<ZipEntry>> ReadZipDirectory(const uint8_t* data, size_t size);

}  // namespace anser
