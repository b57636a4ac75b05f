// LoadSafetensors / LoadSafetensorsFolder: `.safetensors` files → views into their mappings.
// Layout: u64 little-endian header size, a JSON header {name: {dtype, shape, data_offsets}},
// then the data region the offsets index.
#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>

#include "core/mapped_file.h"
#include "io/formats.h"
#include "io/little_endian.h"
#include "io/tensor_bytes.h"

namespace anser {
namespace {

std::optional<DType> ParseDType(const std::string& name) {
  if (name == "F32") return DType::kF32;
  if (name == "F16") return DType::kF16;
  if (name == "BF16") return DType::kBF16;
  if (name == "I64") return DType::kI64;
  if (name == "I32") return DType::kI32;
  if (name == "U8") return DType::kU8;
  return std::nullopt;
}

// The safetensors format's own limit is 100 MB; a header takes about 100 bytes a tensor, and
// parsed JSON takes several times its text, so 16 MiB bounds what a header can make us allocate
// while leaving room for 100,000 tensors.
constexpr uint64_t kMaxHeaderBytes = uint64_t{16} << 20;

struct PendingTensor {
  TensorView view;
  uint64_t begin = 0;
};

class SafetensorsReader {
 public:
  SafetensorsReader(std::string path, TensorStore* store) : path_(std::move(path)), store_(store) {}

  Status Load() {
    auto mapped = MappedFile::Open(path_);
    if (!mapped.ok()) return Status::Error("[safetensors] " + mapped.message());
    mapping_ = std::move(mapped).value();
    const uint64_t size = mapping_->size();
    if (size < 8) return Error("file too short for a header");
    const uint64_t header_size = LoadLe64(mapping_->data());
    if (header_size > size - 8) {
      return Error("header size " + std::to_string(header_size) + " exceeds the file of " + std::to_string(size) +
                   " bytes");
    }
    if (header_size > kMaxHeaderBytes) {
      return Error("header of " + std::to_string(header_size) + " bytes is above the limit of " +
                   std::to_string(kMaxHeaderBytes));
    }
    data_ = mapping_->data() + 8 + header_size;
    data_size_ = size - 8 - header_size;

    const char* header = reinterpret_cast<const char*>(mapping_->data() + 8);
    nlohmann::json json;
    std::vector<PendingTensor> pending;
    try {
      json = nlohmann::json::parse(header, header + header_size, nullptr, false);
      if (json.is_discarded() || !json.is_object()) return Error("header is not a JSON object");
      for (const auto& [name, entry] : json.items()) {
        if (name == "__metadata__") continue;
        ANSER_ASSIGN_OR_RETURN(PendingTensor t, ParseEntry(name, entry));
        pending.push_back(std::move(t));
      }
    } catch (const nlohmann::json::exception& e) {
      return Error(std::string("bad header: ") + e.what());
    }
    // In file order, which is the order the writer chose; the JSON object sorts names.
    std::stable_sort(pending.begin(), pending.end(),
                     [](const PendingTensor& a, const PendingTensor& b) { return a.begin < b.begin; });
    // Tensors may not share bytes (the format forbids it; packing one would rewrite another).
    const PendingTensor* previous = nullptr;
    for (const PendingTensor& t : pending) {
      if (t.view.nbytes() == 0) continue;
      if (previous != nullptr && t.begin - previous->begin < previous->view.nbytes()) {
        return Error("tensors '" + previous->view.name + "' and '" + t.view.name + "' overlap (data_offsets " +
                     std::to_string(previous->begin) + "+" + std::to_string(previous->view.nbytes()) + " and " +
                     std::to_string(t.begin) + "+" + std::to_string(t.view.nbytes()) + ")");
      }
      previous = &t;
    }
    for (PendingTensor& t : pending) {
      if (store_->Find(t.view.name) != nullptr) {
        return Error("tensor '" + t.view.name + "' is already defined by another file");
      }
      t.view.data = PlaceTensorData(*store_, data_ + t.begin, t.view.nbytes(), t.view.dtype);
      store_->Add(std::move(t.view));
    }
    store_->KeepMapping(mapping_);
    return Status::Ok();
  }

 private:
  Status Error(const std::string& what) const {
    return Status::Error("[safetensors] " + what + " in " + path_);
  }

  Result<PendingTensor> ParseEntry(const std::string& name, const nlohmann::json& entry) const {
    const std::string where = "tensor '" + name + "': ";
    if (!entry.is_object()) return Error(where + "entry is not an object");
    const auto dtype_it = entry.find("dtype");
    const auto shape_it = entry.find("shape");
    const auto offsets_it = entry.find("data_offsets");
    if (dtype_it == entry.end() || !dtype_it->is_string() || shape_it == entry.end() ||
        !shape_it->is_array() || offsets_it == entry.end() || !offsets_it->is_array() ||
        offsets_it->size() != 2 || !(*offsets_it)[0].is_number_unsigned() ||
        !(*offsets_it)[1].is_number_unsigned()) {
      return Error(where + "needs dtype, shape and data_offsets [begin, end]");
    }
    PendingTensor t;
    t.view.name = name;
    const std::optional<DType> dtype = ParseDType(dtype_it->get<std::string>());
    if (!dtype) return Error(where + "unsupported dtype " + dtype_it->get<std::string>());
    t.view.dtype = *dtype;
    for (const nlohmann::json& d : *shape_it) {
      if (!d.is_number_unsigned() || d.get<uint64_t>() > static_cast<uint64_t>(INT64_MAX)) {
        return Error(where + "shape holds a non-integer or negative dimension");
      }
      t.view.shape.push_back(static_cast<int64_t>(d.get<uint64_t>()));
    }
    const std::optional<uint64_t> numel = CheckedNumel(t.view.shape);
    const std::optional<uint64_t> nbytes =
        numel ? CheckedBytes(*numel, t.view.dtype) : std::nullopt;
    if (!nbytes) return Error(where + "shape too large");
    t.begin = (*offsets_it)[0].get<uint64_t>();
    const uint64_t end = (*offsets_it)[1].get<uint64_t>();
    if (t.begin > end || end > data_size_) {
      return Error(where + "data_offsets [" + std::to_string(t.begin) + ", " +
                   std::to_string(end) + "] outside the " + std::to_string(data_size_) +
                   "-byte data region");
    }
    if (end - t.begin != *nbytes) {
      return Error(where + "data_offsets span " + std::to_string(end - t.begin) +
                   " bytes, shape " + t.view.ShapeString() + " needs " + std::to_string(*nbytes));
    }
    return t;
  }

  std::string path_;
  TensorStore* store_;
  std::shared_ptr<MappedFile> mapping_;
  const uint8_t* data_ = nullptr;
  uint64_t data_size_ = 0;
};

}  // namespace

Result<TensorStore> LoadSafetensors(const std::string& path) {
  TensorStore store(path);
  ANSER_RETURN_IF_ERROR(SafetensorsReader(path, &store).Load());
  return store;
}

Result<TensorStore> LoadSafetensorsFolder(const std::string& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  std::vector<std::string> files;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->path().extension() == ".safetensors" && it->is_regular_file(ec)) {
      files.push_back(it->path().string());
    }
  }
  if (ec) return Status::Error("[safetensors] cannot list '" + dir + "': " + ec.message());
  if (files.empty()) return Status::Error("[safetensors] no *.safetensors files in " + dir);
  // Sharded checkpoints are numbered (model-00001-of-00002…); sorting keeps their order.
  std::sort(files.begin(), files.end());
  TensorStore store(dir);
  for (const std::string& file : files) {
    ANSER_RETURN_IF_ERROR(SafetensorsReader(file, &store).Load());
  }
  return store;
}

}  // namespace anser
