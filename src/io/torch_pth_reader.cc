// LoadTorchPth: `torch.save` zip archives → TensorStore of views into the file mapping.
#include <cctype>
#include <optional>
#include <unordered_map>

#include "core/mapped_file.h"
#include "io/formats.h"
#include "io/tensor_bytes.h"
#include "io/torch_pth_common.h"
#include "io/unpickler.h"
#include "io/zip_reader.h"

namespace anser {
namespace {

constexpr std::string_view kRebuildTensor = "torch._utils._rebuild_tensor_v2";
constexpr std::string_view kRebuildParameter = "torch._utils._rebuild_parameter";

// Storage classes are plain names torch looks up to learn a dtype; allowing any torch.*Storage
// name costs nothing (nothing is ever called) and lets an unsupported dtype be reported as such
// instead of as a refused global.
bool IsTorchStorageClass(std::string_view module, std::string_view name) {
  constexpr std::string_view kSuffix = "Storage";
  if (module != "torch" || name.size() <= kSuffix.size() ||
      name.substr(name.size() - kSuffix.size()) != kSuffix) {
    return false;
  }
  for (char c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

bool IsAllowedGlobal(std::string_view module, std::string_view name) {
  if (module == "collections" && name == "OrderedDict") return true;
  if (module == "torch._utils" &&
      (name == "_rebuild_tensor_v2" || name == "_rebuild_parameter")) {
    return true;
  }
  return IsTorchStorageClass(module, name);
}

std::optional<int64_t> AsInt(const PickleObject& o) {
  if (o.kind != PickleKind::kInt) return std::nullopt;
  return o.int_value;
}

class PthReader {
 public:
  explicit PthReader(std::string path) : path_(std::move(path)) {}

  // Reads the archive in [data, data + size), which `backing` keeps alive.
  Result<TensorStore> Load(const uint8_t* data, size_t size, std::shared_ptr<const void> backing) {
    data_ = data;
    backing_ = std::move(backing);
    auto dir = ReadZipDirectory(data, size);
    if (!dir.ok()) return Error(dir.message());
    entries_ = std::move(dir).value();
    for (size_t i = 0; i < entries_.size(); ++i) {
      if (!index_.emplace(entries_[i].name, i).second) {
        return Error("duplicate zip entry '" + entries_[i].name + "'");
      }
    }
    ANSER_RETURN_IF_ERROR(FindTopFolder());
    ANSER_RETURN_IF_ERROR(CheckByteOrder());

    const ZipEntry* pkl = Find(top_ + "/data.pkl");
    const PickleGlobalFilter filter = [this](std::string_view module, std::string_view name) {
      if (IsAllowedGlobal(module, name)) return Status::Ok();
      return Status::Error("[torch_pth] refusing pickle global '" + std::string(module) + "." +
                           std::string(name) + "' in " + path_ +
                           ": only tensor state dicts are supported");
    };
    auto graph = Unpickle(data_ + pkl->data_offset, pkl->size, filter);
    if (!graph.ok()) {
      if (graph.message().rfind("[torch_pth]", 0) == 0) return graph.status();
      return Error(top_ + "/data.pkl: " + graph.message());
    }
    graph_ = &graph.value();

    const PickleObject& root = graph_->root();
    if (root.kind != PickleKind::kDict) {
      return Error("the pickled object is not a dict of tensors");
    }
    TensorStore store(path_);
    store.KeepAlive(backing_);
    for (size_t i = 0; i + 1 < root.items.size(); i += 2) {
      const PickleObject& key = graph_->object(root.items[i]);
      if (key.kind != PickleKind::kString) continue;
      ANSER_RETURN_IF_ERROR(AddTensor(key.text, graph_->object(root.items[i + 1]), store));
    }
    return store;
  }

 private:
  Status Error(const std::string& what) const {
    return Status::Error("[torch_pth] " + what + " in " + path_);
  }
  Status TensorError(const std::string& name, const std::string& what) const {
    return Error("tensor '" + name + "': " + what);
  }

  const ZipEntry* Find(const std::string& name) const {
    auto it = index_.find(name);
    return it == index_.end() ? nullptr : &entries_[it->second];
  }

  // torch names the top folder after the file, but files renamed after saving, or written by
  // other versions, use "archive/" or their original stem: take the one folder with data.pkl.
  Status FindTopFolder() {
    const std::string stem = TorchArchiveName(path_);
    if (Find(stem + "/data.pkl") != nullptr) {
      top_ = stem;
      return Status::Ok();
    }
    constexpr std::string_view kPickle = "/data.pkl";
    int found = 0;
    for (const ZipEntry& e : entries_) {
      const std::string_view name = e.name;
      if (name.size() <= kPickle.size() || name.substr(name.size() - kPickle.size()) != kPickle) {
        continue;
      }
      const std::string_view folder = name.substr(0, name.size() - kPickle.size());
      if (folder.find('/') != std::string_view::npos) continue;
      top_ = std::string(folder);
      ++found;
    }
    if (found == 0) return Error("no data.pkl: not a torch.save archive");
    if (found > 1) return Error("several top folders hold a data.pkl");
    return Status::Ok();
  }

  Status CheckByteOrder() const {
    const ZipEntry* e = Find(top_ + "/byteorder");
    if (e == nullptr) return Status::Ok();  // written only by torch >= 2.1, always little then
    std::string_view order(reinterpret_cast<const char*>(data_ + e->data_offset),
                           static_cast<size_t>(e->size));
    while (!order.empty() && std::isspace(static_cast<unsigned char>(order.back()))) {
      order.remove_suffix(1);
    }
    if (order == "little") return Status::Ok();
    if (order == "big") return Error("big-endian archive is not supported");
    return Error("unknown byte order '" + std::string(order.substr(0, 16)) + "'");
  }

  // A dict value becomes a tensor if it is _rebuild_tensor_v2(...), possibly wrapped in
  // _rebuild_parameter(...); other values (ints, nested dicts) are not weights and are skipped.
  Status AddTensor(const std::string& name, const PickleObject& value, TensorStore& store) {
    if (value.kind != PickleKind::kReduce) return Status::Ok();
    const PickleObject* call = &value;
    if (graph_->object(call->items[0]).text == kRebuildParameter) {
      const PickleObject& args = graph_->object(call->items[1]);
      if (args.items.empty()) return TensorError(name, "parameter without data");
      call = &graph_->object(args.items[0]);
      if (call->kind != PickleKind::kReduce ||
          graph_->object(call->items[0]).text != kRebuildTensor) {
        return TensorError(name, "parameter does not wrap a tensor");
      }
    } else if (graph_->object(call->items[0]).text != kRebuildTensor) {
      return Status::Ok();
    }
    const PickleObject& args = graph_->object(call->items[1]);
    if (args.items.size() != 6 && args.items.size() != 7) {
      return TensorError(name, "_rebuild_tensor_v2 takes 6 or 7 arguments, got " +
                                   std::to_string(args.items.size()));
    }
    const PickleObject& storage = graph_->object(args.items[0]);
    if (storage.kind != PickleKind::kPersistentId) {
      return TensorError(name, "storage is not a persistent id");
    }
    const PickleObject& pid = graph_->object(storage.items[0]);
    if (pid.kind != PickleKind::kTuple || pid.items.size() != 5 ||
        graph_->object(pid.items[0]).kind != PickleKind::kString ||
        graph_->object(pid.items[0]).text != "storage" ||
        graph_->object(pid.items[1]).kind != PickleKind::kGlobal ||
        graph_->object(pid.items[2]).kind != PickleKind::kString) {
      return TensorError(name, "malformed storage id (expected ('storage', type, key, location, "
                               "numel))");
    }
    const std::string& storage_class = graph_->object(pid.items[1]).text;
    constexpr std::string_view kTorchPrefix = "torch.";
    const std::optional<DType> dtype =
        storage_class.rfind(kTorchPrefix, 0) == 0
            ? DTypeOfTorchStorage(std::string_view(storage_class).substr(kTorchPrefix.size()))
            : std::nullopt;
    if (!dtype) return TensorError(name, "unsupported storage type " + storage_class);

    const std::string& key = graph_->object(pid.items[2]).text;
    const ZipEntry* data = Find(top_ + "/data/" + key);
    if (data == nullptr) return TensorError(name, "storage '" + key + "' missing from archive");

    const std::optional<int64_t> offset = AsInt(graph_->object(args.items[1]));
    TensorView view;
    view.name = name;
    view.dtype = *dtype;
    std::vector<int64_t> stride;
    if (!offset || *offset < 0 || !IntTuple(graph_->object(args.items[2]), &view.shape) ||
        !IntTuple(graph_->object(args.items[3]), &stride) || stride.size() != view.shape.size()) {
      return TensorError(name, "malformed offset, size or stride");
    }
    const std::optional<uint64_t> numel = CheckedNumel(view.shape);
    if (!numel) return TensorError(name, "invalid shape " + view.ShapeString());
    if (!IsContiguous(view.shape, stride)) {
      return TensorError(name, "non-contiguous strides are not supported");
    }
    // The tensor must lie inside its storage's bytes: (offset + numel) * element size.
    uint64_t end_elements;
    const std::optional<uint64_t> end_bytes =
        __builtin_add_overflow(static_cast<uint64_t>(*offset), *numel, &end_elements)
            ? std::nullopt
            : CheckedBytes(end_elements, *dtype);
    if (!end_bytes || *end_bytes > data->size) {
      return TensorError(name, "offset " + std::to_string(*offset) + " + " +
                                   std::to_string(*numel) + " elements of " +
                                   std::string(DTypeName(*dtype)) + " exceed storage '" + key +
                                   "' of " + std::to_string(data->size) + " bytes");
    }
    const size_t nbytes = static_cast<size_t>(*numel) * DTypeSize(*dtype);
    const uint8_t* bytes = data_ + data->data_offset +
                           static_cast<uint64_t>(*offset) * DTypeSize(*dtype);
    view.data = PlaceTensorData(store, bytes, nbytes, *dtype);
    store.Add(std::move(view));
    return Status::Ok();
  }

  bool IntTuple(const PickleObject& o, std::vector<int64_t>* out) const {
    if (o.kind != PickleKind::kTuple) return false;
    out->clear();
    for (uint32_t id : o.items) {
      const std::optional<int64_t> v = AsInt(graph_->object(id));
      if (!v) return false;
      out->push_back(*v);
    }
    return true;
  }

  // Row-major contiguous; strides of size-1 dimensions are free, as in torch's own check.
  static bool IsContiguous(const std::vector<int64_t>& shape, const std::vector<int64_t>& stride) {
    int64_t expected = 1;
    for (size_t i = shape.size(); i-- > 0;) {
      if (shape[i] == 0) return true;
      if (shape[i] != 1 && stride[i] != expected) return false;
      expected *= shape[i];
    }
    return true;
  }

  std::string path_;
  const uint8_t* data_ = nullptr;
  std::shared_ptr<const void> backing_;
  std::vector<ZipEntry> entries_;
  std::unordered_map<std::string, size_t> index_;
  std::string top_;
  const PickleGraph* graph_ = nullptr;
};

}  // namespace

namespace {

// Every error names the format first, whichever layer (zip, pickle) found it.
Result<TensorStore> WithFormatPrefix(Result<TensorStore> loaded) {
  if (!loaded.ok() && loaded.message().rfind("[torch_pth]", 0) != 0) {
    return Status::Error("[torch_pth] " + loaded.message());
  }
  return loaded;
}

}  // namespace

Result<TensorStore> LoadTorchPth(const std::string& path) {
  auto mapping = MappedFile::Open(path);
  if (!mapping.ok()) return WithFormatPrefix(mapping.status());
  const std::shared_ptr<MappedFile>& file = *mapping;
  auto store = PthReader(path).Load(file->data(), file->size(), file);
  if (store.ok()) store->KeepMapping(file);
  return WithFormatPrefix(std::move(store));
}

Result<TensorStore> LoadTorchPthBytes(std::shared_ptr<const std::string> bytes, const std::string& name) {
  const auto* data = reinterpret_cast<const uint8_t*>(bytes->data());
  const size_t size = bytes->size();
  return WithFormatPrefix(PthReader(name).Load(data, size, std::move(bytes)));
}

}  // namespace anser
