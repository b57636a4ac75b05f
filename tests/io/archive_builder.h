// Test-side builders for torch.save archives, written independently of the library's writer so
// reader tests do not merely check the writer against itself: a zip builder that can use ZIP64
// forms and compression flags, and a pickle builder for state dicts in protocol 2 or 4 style.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace anser::testing_io {

std::string ReadBytes(const std::string& path);
void WriteBytes(const std::string& path, const std::string& bytes);
// A fresh folder under testing::TempDir() for this test.
std::string TestDir();

struct ZipSpec {
  struct Entry {
    std::string name;
    std::string data;
    uint16_t method = 0;  // 8 claims deflate (the data is left as is)
  };
  std::vector<Entry> entries;
  // Saturated 32-bit fields with ZIP64 extra fields in the central directory, plus the ZIP64
  // end record and locator.
  bool zip64 = false;
  std::string comment;
};
std::string BuildZip(const ZipSpec& spec);

struct FakeTensor {
  std::string name;
  std::string storage_class = "FloatStorage";
  std::string key;
  int64_t storage_numel = 0;
  int64_t offset = 0;
  std::vector<int64_t> shape;
  std::vector<int64_t> stride;  // empty: contiguous
  bool as_parameter = false;    // wrapped in torch._utils._rebuild_parameter
};
// Protocol 2 uses GLOBAL/BINUNICODE/BINPUT like torch 1.x; protocol 4 uses FRAME,
// SHORT_BINUNICODE, STACK_GLOBAL and MEMOIZE, and an OrderedDict top level with BUILD state.
std::string StateDictPickle(const std::vector<FakeTensor>& tensors, int protocol);

}  // namespace anser::testing_io
