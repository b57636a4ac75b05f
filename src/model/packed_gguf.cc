#include "model/packed_gguf.h"

#include <set>

namespace anser {
namespace {

constexpr const char* kLayoutKey = "anser.packed.layout";
constexpr const char* kVersionKey = "anser.packed.version";
constexpr const char* kKernelsKey = "anser.packed.kernels";
constexpr const char* kTensorsKey = "anser.packed.tensors";

Status Refuse(const GgufFile& gguf, const std::string& what) {
  return Status::Error("[gguf] " + gguf.tensors.source() + " is a packed file (architecture '" +
                       kPackedArchitecture + "') but " + what);
}

}  // namespace

bool PackedFileHolds(DType dtype) { return DTypeIsBlock(dtype); }

void MarkPacked(const CpuKernels& table, const std::vector<std::string>& tensors,
                GgufMetadata* metadata) {
  metadata->Set("general.architecture", GgufValue::String(kPackedArchitecture));
  metadata->Set(kLayoutKey, GgufValue::String(std::string(MatLayoutName(PackedLayout(table)))));
  metadata->Set(kVersionKey, GgufValue::U32(kPackedLayoutVersion));
  metadata->Set(kKernelsKey, GgufValue::String(table.name));
  std::vector<GgufValue> names;
  for (const std::string& t : tensors) names.push_back(GgufValue::String(t));
  metadata->Set(kTensorsKey, GgufValue::Array(GgufType::kString, std::move(names)));
}

Status ReadPackedLayout(GgufFile* gguf) {
  const GgufValue* arch = gguf->metadata.Find("general.architecture");
  if (arch == nullptr || arch->type != GgufType::kString || arch->s != kPackedArchitecture) {
    return Status::Ok();
  }
  const GgufValue* version = gguf->metadata.Find(kVersionKey);
  if (version == nullptr || version->AsInt() != kPackedLayoutVersion) {
    return Refuse(*gguf, "its " + std::string(kVersionKey) + " is not " +
                             std::to_string(kPackedLayoutVersion) +
                             ", the layout this build reads: write it again with this build's "
                             "`anser quantize --layout packed` from the standard file");
  }
  const GgufValue* layout_name = gguf->metadata.Find(kLayoutKey);
  MatLayout layout = MatLayout::kRows;
  for (MatLayout l : {MatLayout::kTiles8, MatLayout::kTiles16}) {
    if (layout_name != nullptr && layout_name->type == GgufType::kString &&
        layout_name->s == MatLayoutName(l)) {
      layout = l;
    }
  }
  if (layout == MatLayout::kRows) {
    return Refuse(*gguf, std::string(kLayoutKey) + " is not 'tiles8' or 'tiles16'");
  }
  const GgufValue* tensors = gguf->metadata.Find(kTensorsKey);
  if (tensors == nullptr || tensors->type != GgufType::kArray ||
      tensors->item_type != GgufType::kString) {
    return Refuse(*gguf, "it lacks " + std::string(kTensorsKey) + " (an array of strings)");
  }
  std::set<std::string> seen;
  for (const GgufValue& name : tensors->items) {
    const TensorView* t = gguf->tensors.Find(name.s);
    if (t == nullptr || !seen.insert(name.s).second) {
      return Refuse(*gguf, std::string(kTensorsKey) + " names '" + name.s +
                               "', which is not a tensor of the file or is named twice");
    }
    if (!PackedFileHolds(t->dtype) || t->shape.size() != 2 || gguf->converted.count(name.s) != 0) {
      return Refuse(*gguf, "its packed tensor '" + name.s + "' " + t->ShapeString() +
                               " is not a matrix of a block type the kernels pack");
    }
    TensorView packed = *t;
    packed.layout = layout;
    gguf->tensors.Add(std::move(packed));
  }
  return Status::Ok();
}

}  // namespace anser
