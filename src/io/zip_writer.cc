#include "io/zip_writer.h"

#include <algorithm>

#include "io/crc32.h"
#include "io/little_endian.h"

namespace anser {
namespace {

constexpr uint64_t kU32Max = 0xffffffffu;
constexpr uint64_t kAlignment = 64;
constexpr uint16_t kFlags = 0x0808;  // bit 3: sizes in a data descriptor; bit 11: UTF-8 names
constexpr uint64_t kCrcChunk = uint64_t{64} << 20;

// ZIP64 extended information: the fields whose 32-bit slot saturates, in the order the
// format fixes (uncompressed size, compressed size, local header offset).
std::string Zip64Extra(uint64_t size, uint64_t local_offset) {
  std::string fields;
  if (size >= kU32Max) {
    AppendLe64(fields, size);
    AppendLe64(fields, size);
  }
  if (local_offset >= kU32Max) AppendLe64(fields, local_offset);
  if (fields.empty()) return fields;
  std::string extra;
  AppendLe16(extra, 0x0001);
  AppendLe16(extra, static_cast<uint16_t>(fields.size()));
  return extra + fields;
}

uint32_t Saturate32(uint64_t v) { return static_cast<uint32_t>(std::min(v, kU32Max)); }

}  // namespace

Status ZipWriter::AddEntry(std::string_view name, const void* data, uint64_t size) {
  if (name.size() > 0xffff) return Status::Error("zip entry name too long");
  const uint64_t local_offset = out_->bytes_written();
  const std::string zip64 = Zip64Extra(size, local_offset);

  // Pad with a private extra field ("FB", as torch's writer does) so the data begins on a
  // 64-byte boundary and can be mapped straight into aligned tensor views.
  const uint64_t unpadded = local_offset + 30 + name.size() + zip64.size() + 4;
  const uint64_t padding = (kAlignment - unpadded % kAlignment) % kAlignment;
  std::string header;
  AppendLe32(header, 0x04034b50);
  AppendLe16(header, 0);  // version needed
  AppendLe16(header, kFlags);
  AppendLe16(header, 0);  // method: stored
  AppendLe32(header, 0);  // time and date
  AppendLe32(header, 0);  // crc, compressed and uncompressed size: in the data descriptor
  AppendLe32(header, 0);
  AppendLe32(header, 0);
  AppendLe16(header, static_cast<uint16_t>(name.size()));
  AppendLe16(header, static_cast<uint16_t>(zip64.size() + 4 + padding));
  header.append(name);
  header.append(zip64);
  AppendLe16(header, 0x4246);  // "FB"
  AppendLe16(header, static_cast<uint16_t>(padding));
  header.append(padding, 'Z');
  ANSER_RETURN_IF_ERROR(out_->Write(header.data(), header.size()));

  // Checksum each chunk just before writing it, while it is still in cache.
  const auto* p = static_cast<const uint8_t*>(data);
  uint32_t crc = 0;
  for (uint64_t done = 0; done < size;) {
    const uint64_t chunk = std::min(kCrcChunk, size - done);
    crc = Crc32Update(crc, p + done, chunk);
    ANSER_RETURN_IF_ERROR(out_->Write(p + done, chunk));
    done += chunk;
  }

  std::string descriptor;
  AppendLe32(descriptor, 0x08074b50);
  AppendLe32(descriptor, crc);
  if (zip64.empty()) {
    AppendLe32(descriptor, static_cast<uint32_t>(size));
    AppendLe32(descriptor, static_cast<uint32_t>(size));
  } else {
    AppendLe64(descriptor, size);
    AppendLe64(descriptor, size);
  }
  ANSER_RETURN_IF_ERROR(out_->Write(descriptor.data(), descriptor.size()));
  records_.push_back({std::string(name), crc, size, local_offset});
  return Status::Ok();
}

Status ZipWriter::Finish() {
  const uint64_t dir_offset = out_->bytes_written();
  std::string dir;
  for (const CentralRecord& r : records_) {
    const std::string zip64 = Zip64Extra(r.size, r.local_offset);
    AppendLe32(dir, 0x02014b50);
    AppendLe16(dir, 0);  // version made by
    AppendLe16(dir, 0);  // version needed
    AppendLe16(dir, kFlags);
    AppendLe16(dir, 0);  // method: stored
    AppendLe32(dir, 0);  // time and date
    AppendLe32(dir, r.crc);
    AppendLe32(dir, Saturate32(r.size));
    AppendLe32(dir, Saturate32(r.size));
    AppendLe16(dir, static_cast<uint16_t>(r.name.size()));
    AppendLe16(dir, static_cast<uint16_t>(zip64.size()));
    AppendLe16(dir, 0);  // comment length
    AppendLe16(dir, 0);  // disk number
    AppendLe16(dir, 0);  // internal attributes
    AppendLe32(dir, 0);  // external attributes
    AppendLe32(dir, Saturate32(r.local_offset));
    dir.append(r.name);
    dir.append(zip64);
  }
  const uint64_t dir_size = dir.size();
  const uint64_t end64_offset = dir_offset + dir_size;
  const uint64_t count = records_.size();

  AppendLe32(dir, 0x06064b50);  // ZIP64 end of central directory record
  AppendLe64(dir, 44);          // size of the rest of this record
  AppendLe16(dir, 0x031e);      // version made by
  AppendLe16(dir, 0x002d);      // version needed: 4.5, ZIP64
  AppendLe32(dir, 0);
  AppendLe32(dir, 0);
  AppendLe64(dir, count);
  AppendLe64(dir, count);
  AppendLe64(dir, dir_size);
  AppendLe64(dir, dir_offset);

  AppendLe32(dir, 0x07064b50);  // ZIP64 end of central directory locator
  AppendLe32(dir, 0);
  AppendLe64(dir, end64_offset);
  AppendLe32(dir, 1);  // total number of disks

  AppendLe32(dir, 0x06054b50);  // end of central directory record
  AppendLe16(dir, 0);
  AppendLe16(dir, 0);
  AppendLe16(dir, static_cast<uint16_t>(std::min<uint64_t>(count, 0xffff)));
  AppendLe16(dir, static_cast<uint16_t>(std::min<uint64_t>(count, 0xffff)));
  AppendLe32(dir, Saturate32(dir_size));
  AppendLe32(dir, Saturate32(dir_offset));
  AppendLe16(dir, 0);  // comment length
  return out_->Write(dir.data(), dir.size());
}

}  // namespace anser
