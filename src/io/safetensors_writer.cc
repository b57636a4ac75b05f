// SaveSafetensors: tensor sources → one `.safetensors` file. The JSON header lists every
// tensor's dtype, shape and byte range; the data follows in the sources' order. The header is
// padded with spaces to a multiple of 8 bytes, as the reference writer does, so that the data
// of every 8-byte-or-smaller element type stays aligned in a mapping.
#include <nlohmann/json.hpp>
#include <set>

#include "io/atomic_file_writer.h"
#include "io/formats.h"
#include "io/little_endian.h"

namespace anser {
namespace {

const char* SafetensorsDType(DType dtype) {
  switch (dtype) {
    case DType::kF32: return "F32";
    case DType::kF16: return "F16";
    case DType::kBF16: return "BF16";
    case DType::kI64: return "I64";
    case DType::kI32: return "I32";
    case DType::kU8: return "U8";
    default: return nullptr;
  }
}

}  // namespace

Status SaveSafetensors(const std::string& path, const std::vector<TensorSource>& tensors) {
  nlohmann::json header = nlohmann::json::object();
  header["__metadata__"] = {{"format", "pt"}};
  std::set<std::string> names;
  uint64_t offset = 0;
  for (const TensorSource& t : tensors) {
    const char* dtype = SafetensorsDType(t.dtype);
    if (dtype == nullptr) {
      return Status::Error("[safetensors] tensor '" + t.name + "' has type " + std::string(DTypeName(t.dtype)) +
                           ", which safetensors cannot hold (quantized types are written as GGUF only), writing " +
                           path);
    }
    if (t.name == "__metadata__" || !names.insert(t.name).second) {
      return Status::Error("[safetensors] duplicate or reserved tensor name '" + t.name + "' writing " + path);
    }
    const uint64_t end = offset + t.nbytes();
    header[t.name] = {{"dtype", dtype}, {"shape", t.shape}, {"data_offsets", {offset, end}}};
    offset = end;
  }
  std::string json = header.dump();
  json.resize((json.size() + 7) / 8 * 8, ' ');
  std::string prefix;
  AppendLe64(prefix, json.size());

  AtomicFileWriter file;
  ANSER_RETURN_IF_ERROR(file.Open(path));
  ANSER_RETURN_IF_ERROR(file.Write(prefix.data(), prefix.size()));
  ANSER_RETURN_IF_ERROR(file.Write(json.data(), json.size()));
  for (const TensorSource& t : tensors) {
    const uint64_t start = file.bytes_written();
    ANSER_RETURN_IF_ERROR(t.produce([&file](const void* data, size_t size) { return file.Write(data, size); }));
    if (file.bytes_written() - start != t.nbytes()) {
      return Status::Error("[safetensors] tensor '" + t.name + "' produced the wrong number of bytes writing " + path);
    }
  }
  return file.Commit();
}

}  // namespace anser
