#include "train/resume_file.h"

#include <cstdint>
#include <cstring>
#include <fstream>
#include <iterator>

#include "io/atomic_file_writer.h"

namespace anser {
namespace {

constexpr char kMagic[] = "ANSER-TRAIN-1\n";
constexpr size_t kMagicSize = sizeof(kMagic) - 1;

void PutU64(std::string& out, uint64_t x) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((x >> (8 * i)) & 0xFF));
}

uint64_t GetU64(const std::string& in, size_t at) {
  uint64_t x = 0;
  for (int i = 0; i < 8; ++i)
    x |= static_cast<uint64_t>(static_cast<uint8_t>(in[at + static_cast<size_t>(i)])) << (8 * i);
  return x;
}

}  // namespace

Status WriteResumeFile(const std::string& path, const std::string& meta_json,
                       const std::vector<const std::vector<float>*>& parts) {
  std::string head(kMagic, kMagicSize);
  PutU64(head, meta_json.size());
  head += meta_json;
  uint64_t count = 0;
  for (const std::vector<float>* p : parts) count += p->size();
  PutU64(head, count);
  AtomicFileWriter out;
  ANSER_RETURN_IF_ERROR(out.Open(path));
  ANSER_RETURN_IF_ERROR(out.Write(head.data(), head.size()));
  static_assert(sizeof(float) == 4,
                "float32 values are written as they lie in memory (little-endian hosts)");
  for (const std::vector<float>* p : parts)
    ANSER_RETURN_IF_ERROR(out.Write(p->data(), p->size() * sizeof(float)));
  return out.Commit();
}

Result<ResumeFile> ReadResumeFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::Error("[train] cannot open the resume file '" + path + "'");
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const std::string bad = "[train] '" + path + "' is not an Anser resume file or is truncated";
  if (bytes.size() < kMagicSize + 16 || bytes.compare(0, kMagicSize, kMagic) != 0)
    return Status::Error(bad);
  size_t at = kMagicSize;
  const uint64_t meta_size = GetU64(bytes, at);
  at += 8;
  if (meta_size > bytes.size() - at - 8) return Status::Error(bad);
  ResumeFile f;
  f.meta_json = bytes.substr(at, meta_size);
  at += meta_size;
  const uint64_t count = GetU64(bytes, at);
  at += 8;
  if (count != (bytes.size() - at) / sizeof(float) || (bytes.size() - at) % sizeof(float) != 0) {
    return Status::Error(bad);
  }
  f.values.resize(count);
  std::memcpy(f.values.data(), bytes.data() + at, count * sizeof(float));
  return f;
}

}  // namespace anser
