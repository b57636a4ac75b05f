// The ZIP central-directory reader alone, on the bytes in memory.
#include "fuzz_support.h"
#include "io/zip_reader.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace anser;
  Result<std::vector<ZipEntry>> entries = ReadZipDirectory(data, size);
  if (!entries.ok()) return 0;
  for (const ZipEntry& e : *entries) {
    fuzz::Require(e.data_offset <= size && e.size <= size - e.data_offset,
                  "entry data inside the buffer");
  }
  return 0;
}
