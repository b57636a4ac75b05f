#include "io/zip_reader.h"

#include <algorithm>

#include "io/little_endian.h"

namespace anser {
namespace {

constexpr uint32_t kLocalHeaderSig = 0x04034b50;
constexpr uint32_t kCentralHeaderSig = 0x02014b50;
constexpr uint32_t kEndSig = 0x06054b50;
constexpr uint32_t kEnd64Sig = 0x06064b50;
constexpr uint32_t kEnd64LocatorSig = 0x07064b50;
constexpr size_t kLocalHeaderSize = 30;
constexpr size_t kCentralHeaderSize = 46;
constexpr size_t kEndSize = 22;
constexpr size_t kEnd64Size = 56;
constexpr size_t kEnd64LocatorSize = 20;
constexpr size_t kMaxCommentSize = 0xffff;
constexpr uint16_t kZip64ExtraId = 0x0001;

// True when [offset, offset + length) lies inside a buffer of `size` bytes, without overflow.
bool InBounds(uint64_t offset, uint64_t length, uint64_t size) {
  return offset <= size && length <= size - offset;
}

struct DirectoryLocation {
  uint64_t entries = 0;
  uint64_t offset = 0;
  uint64_t size = 0;
};

Result<DirectoryLocation> FindDirectory(const uint8_t* data, size_t size) {
  if (size < kEndSize) return Status::Error("not a zip archive (too short)");
  // The end record sits before a comment of at most 64 KiB; scan backwards for its signature.
  const size_t lowest = size - kEndSize > kMaxCommentSize ? size - kEndSize - kMaxCommentSize : 0;
  size_t end_pos = size - kEndSize;
  while (true) {
    if (LoadLe32(data + end_pos) == kEndSig &&
        end_pos + kEndSize + LoadLe16(data + end_pos + 20) == size) {
      break;
    }
    if (end_pos == lowest) return Status::Error("not a zip archive (no end of central directory)");
    --end_pos;
  }
  const uint8_t* end = data + end_pos;
  if (LoadLe16(end + 4) != 0 || LoadLe16(end + 6) != 0) {
    return Status::Error("multi-disk zip archives are not supported");
  }
  DirectoryLocation dir{LoadLe16(end + 10), LoadLe32(end + 16), LoadLe32(end + 12)};

  // A ZIP64 locator right before the end record points at the 64-bit end record, whose values
  // replace the saturated 16/32-bit ones.
  if (end_pos >= kEnd64LocatorSize &&
      LoadLe32(data + end_pos - kEnd64LocatorSize) == kEnd64LocatorSig) {
    const uint8_t* locator = data + end_pos - kEnd64LocatorSize;
    const uint64_t end64_pos = LoadLe64(locator + 8);
    if (!InBounds(end64_pos, kEnd64Size, end_pos - kEnd64LocatorSize) ||
        LoadLe32(data + end64_pos) != kEnd64Sig) {
      return Status::Error("corrupt zip archive (bad ZIP64 end of central directory)");
    }
    const uint8_t* end64 = data + end64_pos;
    dir = {LoadLe64(end64 + 32), LoadLe64(end64 + 48), LoadLe64(end64 + 40)};
  } else if (dir.entries == 0xffff || dir.offset == 0xffffffffu || dir.size == 0xffffffffu) {
    return Status::Error("corrupt zip archive (ZIP64 values without a ZIP64 locator)");
  }
  if (!InBounds(dir.offset, dir.size, end_pos)) {
    return Status::Error("corrupt zip archive (central directory outside the file)");
  }
  // Each central entry takes at least 46 bytes, which bounds a hostile entry count.
  if (dir.entries > dir.size / kCentralHeaderSize) {
    return Status::Error("corrupt zip archive (entry count exceeds central directory)");
  }
  return dir;
}

// Replaces saturated 32-bit fields with the values of the ZIP64 extended information field,
// which lists, in this order, only the fields that are saturated.
Status ApplyZip64Extra(const uint8_t* extra, size_t extra_size, uint64_t* uncompressed,
                       uint64_t* compressed, uint64_t* local_offset) {
  size_t pos = 0;
  while (pos + 4 <= extra_size) {
    const uint16_t id = LoadLe16(extra + pos);
    const size_t field_size = LoadLe16(extra + pos + 2);
    pos += 4;
    if (field_size > extra_size - pos) break;
    if (id == kZip64ExtraId) {
      const uint8_t* field = extra + pos;
      size_t used = 0;
      for (uint64_t* value : {uncompressed, compressed, local_offset}) {
        if (*value != 0xffffffffu) continue;
        if (used + 8 > field_size) return Status::Error("corrupt zip archive (short ZIP64 field)");
        *value = LoadLe64(field + used);
        used += 8;
      }
      return Status::Ok();
    }
    pos += field_size;
  }
  if (*uncompressed == 0xffffffffu || *compressed == 0xffffffffu || *local_offset == 0xffffffffu) {
    return Status::Error("corrupt zip archive (saturated sizes without a ZIP64 field)");
  }
  return Status::Ok();
}

}  // namespace

Result<std::vector<ZipEntry>> ReadZipDirectory(const uint8_t* data, size_t size) {
  ANSER_ASSIGN_OR_RETURN(const DirectoryLocation dir, FindDirectory(data, size));
  std::vector<ZipEntry> entries;
  entries.reserve(static_cast<size_t>(dir.entries));
  const uint64_t dir_end = dir.offset + dir.size;
  uint64_t pos = dir.offset;
  for (uint64_t i = 0; i < dir.entries; ++i) {
    if (!InBounds(pos, kCentralHeaderSize, dir_end) || LoadLe32(data + pos) != kCentralHeaderSig) {
      return Status::Error("corrupt zip archive (bad central directory entry " +
                           std::to_string(i) + ")");
    }
    const uint8_t* h = data + pos;
    const uint16_t flags = LoadLe16(h + 8);
    const uint16_t method = LoadLe16(h + 10);
    uint64_t compressed = LoadLe32(h + 20);
    uint64_t uncompressed = LoadLe32(h + 24);
    const size_t name_size = LoadLe16(h + 28);
    const size_t extra_size = LoadLe16(h + 30);
    const size_t comment_size = LoadLe16(h + 32);
    uint64_t local_offset = LoadLe32(h + 42);
    const uint64_t entry_size = kCentralHeaderSize + name_size + extra_size + comment_size;
    if (!InBounds(pos, entry_size, dir_end)) {
      return Status::Error("corrupt zip archive (central directory entry " + std::to_string(i) +
                           " overruns the directory)");
    }
    ZipEntry entry;
    entry.name.assign(reinterpret_cast<const char*>(h + kCentralHeaderSize), name_size);
    ANSER_RETURN_IF_ERROR(ApplyZip64Extra(h + kCentralHeaderSize + name_size, extra_size,
                                          &uncompressed, &compressed, &local_offset));
    if (flags & 1u) return Status::Error("zip entry '" + entry.name + "' is encrypted");
    if (method != 0) {
      return Status::Error("zip entry '" + entry.name + "' is compressed (method " +
                           std::to_string(method) + "); only stored entries can be mapped");
    }
    if (compressed != uncompressed) {
      return Status::Error("corrupt zip archive (stored entry '" + entry.name +
                           "' has different compressed and uncompressed sizes)");
    }
    // The data starts after the local header, whose name and extra field may differ in length
    // from the central copy (torch pads the local extra field to align the data).
    if (!InBounds(local_offset, kLocalHeaderSize, size) ||
        LoadLe32(data + local_offset) != kLocalHeaderSig) {
      return Status::Error("corrupt zip archive (bad local header for '" + entry.name + "')");
    }
    const uint8_t* local = data + local_offset;
    const uint64_t local_name_size = LoadLe16(local + 26);
    const uint64_t local_extra_size = LoadLe16(local + 28);
    const uint64_t local_header_size = kLocalHeaderSize + local_name_size + local_extra_size;
    if (!InBounds(local_offset, local_header_size, size)) {
      return Status::Error("corrupt zip archive (local header of '" + entry.name +
                           "' extends past the end of the file)");
    }
    entry.data_offset = local_offset + local_header_size;
    if (local_name_size != name_size ||
        !std::equal(entry.name.begin(), entry.name.end(),
                    reinterpret_cast<const char*>(local + kLocalHeaderSize))) {
      return Status::Error("corrupt zip archive (local header name differs for '" + entry.name +
                           "')");
    }
    if (!InBounds(entry.data_offset, uncompressed, size)) {
      return Status::Error("corrupt zip archive (data of '" + entry.name +
                           "' extends past the end of the file)");
    }
    entry.size = uncompressed;
    entries.push_back(std::move(entry));
    pos += entry_size;
  }
  return entries;
}

}  // namespace anser
