// SaveGguf: metadata and tensor sources → a GGUF v3 file, streamed through a temporary file
// that is renamed into place. The header is computed first (every tensor's size is known from
// its type and shape), then each tensor's bytes are produced in order, padded to the alignment.
#include <cstring>
#include <set>

#include "io/atomic_file_writer.h"
#include "io/formats.h"
#include "io/little_endian.h"
#include "kernels/ggml_dequant.h"

namespace anser {
namespace {

// llama.cpp's ggml keeps tensor names in a 64-byte buffer with the terminator.
constexpr size_t kMaxNameBytes = 63;

void AppendString(std::string& out, const std::string& s) {
  AppendLe64(out, s.size());
  out += s;
}

Status AppendValue(std::string& out, const std::string& key, const GgufValue& v, bool in_array) {
  switch (v.type) {
    case GgufType::kU8: case GgufType::kBool: out.push_back(static_cast<char>(v.u)); break;
    case GgufType::kI8: out.push_back(static_cast<char>(static_cast<uint8_t>(v.i))); break;
    case GgufType::kU16: AppendLe16(out, static_cast<uint16_t>(v.u)); break;
    case GgufType::kI16: AppendLe16(out, static_cast<uint16_t>(v.i)); break;
    case GgufType::kU32: AppendLe32(out, static_cast<uint32_t>(v.u)); break;
    case GgufType::kI32: AppendLe32(out, static_cast<uint32_t>(v.i)); break;
    case GgufType::kU64: AppendLe64(out, v.u); break;
    case GgufType::kI64: AppendLe64(out, static_cast<uint64_t>(v.i)); break;
    case GgufType::kF32: {
      const float f = static_cast<float>(v.f);
      uint32_t bits;
      std::memcpy(&bits, &f, 4);
      AppendLe32(out, bits);
      break;
    }
    case GgufType::kF64: {
      uint64_t bits;
      std::memcpy(&bits, &v.f, 8);
      AppendLe64(out, bits);
      break;
    }
    case GgufType::kString: AppendString(out, v.s); break;
    case GgufType::kArray:
      if (in_array || v.item_type == GgufType::kArray) {
        return Status::Error("[gguf] metadata '" + key + "': arrays of arrays cannot be written");
      }
      AppendLe32(out, static_cast<uint32_t>(v.item_type));
      AppendLe64(out, v.items.size());
      for (const GgufValue& item : v.items) {
        if (item.type != v.item_type) {
          return Status::Error("[gguf] metadata '" + key + "': array items differ from the array's type");
        }
        ANSER_RETURN_IF_ERROR(AppendValue(out, key, item, true));
      }
      break;
  }
  return Status::Ok();
}

std::string ShapeOf(const std::vector<int64_t>& shape) {
  TensorView v;
  v.shape = shape;
  return v.ShapeString();
}

uint64_t AlignUp(uint64_t n, uint64_t align) { return (n + align - 1) / align * align; }

}  // namespace

Status SaveGguf(const std::string& path, const GgufMetadata& metadata, const std::vector<TensorSource>& tensors,
                const std::function<void(size_t done, size_t total)>& progress) {
  uint64_t align = kGgufDefaultAlignment;
  if (const GgufValue* a = metadata.Find("general.alignment")) {
    const std::optional<int64_t> n = a->AsInt();
    if (a->type != GgufType::kU32 || !n || *n == 0 || (*n & (*n - 1)) != 0) {
      return Status::Error("[gguf] general.alignment must be a power of two stored as u32, writing " + path);
    }
    align = static_cast<uint64_t>(*n);
  }

  std::string header = "GGUF";
  AppendLe32(header, 3);
  AppendLe64(header, tensors.size());
  AppendLe64(header, metadata.entries().size());
  for (const auto& [key, value] : metadata.entries()) {
    AppendString(header, key);
    AppendLe32(header, static_cast<uint32_t>(value.type));
    ANSER_RETURN_IF_ERROR(AppendValue(header, key, value, false));
  }
  std::set<std::string> names;
  uint64_t offset = 0;
  for (const TensorSource& t : tensors) {
    const std::string where = "[gguf] tensor '" + t.name + "' " + ShapeOf(t.shape) + " writing " + path;
    const std::optional<uint32_t> ggml_type = t.ggml_type ? t.ggml_type : GgmlFromDType(t.dtype);
    if (!ggml_type) return Status::Error(where + ": type " + std::string(DTypeName(t.dtype)) + " has no GGML code");
    const int64_t block = t.ggml_type ? GgmlDequantBlock(*t.ggml_type).value_or(GgmlBlock{1, 0}).elems
                                      : DTypeBlockElems(t.dtype);
    if (t.name.size() > kMaxNameBytes) return Status::Error(where + ": name longer than 63 bytes");
    if (!names.insert(t.name).second) return Status::Error(where + ": duplicate name");
    if (t.shape.empty() || t.shape.size() > 4) return Status::Error(where + ": GGUF tensors have 1 to 4 dimensions");
    if (t.shape.back() % block != 0) {
      return Status::Error(where + ": rows must be a multiple of " + std::to_string(block) + " for " +
                           GgmlTypeName(*ggml_type));
    }
    AppendString(header, t.name);
    AppendLe32(header, static_cast<uint32_t>(t.shape.size()));
    for (auto d = t.shape.rbegin(); d != t.shape.rend(); ++d) AppendLe64(header, static_cast<uint64_t>(*d));
    AppendLe32(header, *ggml_type);
    AppendLe64(header, offset);
    offset = AlignUp(offset + t.nbytes(), align);
  }
  header.resize(AlignUp(header.size(), align), '\0');

  AtomicFileWriter file;
  ANSER_RETURN_IF_ERROR(file.Open(path));
  ANSER_RETURN_IF_ERROR(file.Write(header.data(), header.size()));
  static const char kZeros[256] = {};
  for (size_t i = 0; i < tensors.size(); ++i) {
    const TensorSource& t = tensors[i];
    const uint64_t start = file.bytes_written();
    ANSER_RETURN_IF_ERROR(t.produce([&file](const void* data, size_t size) { return file.Write(data, size); }));
    const uint64_t written = file.bytes_written() - start;
    if (written != t.nbytes()) {
      return Status::Error("[gguf] tensor '" + t.name + "' produced " + std::to_string(written) + " bytes, expected " +
                           std::to_string(t.nbytes()) + ", writing " + path);
    }
    uint64_t pad = AlignUp(written, align) - written;
    while (pad > 0) {
      const uint64_t n = pad < sizeof(kZeros) ? pad : sizeof(kZeros);
      ANSER_RETURN_IF_ERROR(file.Write(kZeros, n));
      pad -= n;
    }
    if (progress) progress(i + 1, tensors.size());
  }
  return file.Commit();
}

}  // namespace anser
