// LoadGguf: a GGUF file (version 2 or 3) → metadata and views into its mapping. Every count,
// length, offset and size is checked against the bytes that remain before it is used, so a
// corrupt or hostile file gives an error, never an out-of-bounds read or a huge allocation.
#include <algorithm>
#include <cstring>
#include <set>

#include "core/mapped_file.h"
#include "io/formats.h"
#include "io/little_endian.h"
#include "io/tensor_bytes.h"
#include "kernels/ggml_dequant.h"

namespace anser {
namespace {

// GGML allows at most 4 dimensions per tensor; GGUF keys are at most 65535 bytes.
constexpr uint32_t kMaxDims = 4;
constexpr uint64_t kMaxKeyBytes = 65535;
// Far above any real file (an rwkv7 file has about 40 keys, 10 tensors a layer and a vocabulary
// of 65536 tokens), low enough that what the header makes us allocate stays small (a parsed
// value takes about 100 bytes, however few bytes it took in the file).
constexpr uint64_t kMaxMetadataKeys = 4096;
constexpr uint64_t kMaxArrayItems = uint64_t{1} << 22;  // all metadata arrays together
constexpr uint64_t kMaxTensors = 65536;

constexpr const char* kReadTypes =
    "f32, f16, bf16, q8_0, q5_0, q5_1, q4_0, q4_1, q2_K, q3_K, q4_K, q5_K, q6_K, q8_K, iq4_nl, "
    "iq4_xs";


// One tensor's entry in the header. A tensor of a type Anser converts at load has view.dtype
// GgmlRunAs(its type) and `stored` its layout in the file.
struct TensorInfo {
  TensorView view;
  uint64_t offset = 0;
  uint64_t nbytes = 0;  // as stored in the file
  uint32_t ggml_type = 0;
  std::optional<GgmlBlock> stored;
};

// Smallest encoding of a value of each type: what a count must be checked against before it
// sizes an allocation.
uint64_t MinEncodedSize(GgufType type) {
  switch (type) {
    case GgufType::kU8: case GgufType::kI8: case GgufType::kBool: return 1;
    case GgufType::kU16: case GgufType::kI16: return 2;
    case GgufType::kU32: case GgufType::kI32: case GgufType::kF32: return 4;
    case GgufType::kU64: case GgufType::kI64: case GgufType::kF64: case GgufType::kString: return 8;
    case GgufType::kArray: return 12;
  }
  return 1;
}

bool KnownType(uint32_t t) { return t <= static_cast<uint32_t>(GgufType::kF64); }

class GgufReader {
 public:
  GgufReader(std::string path, GgufRead what, GgufFile* out)
      : path_(std::move(path)), what_(what), out_(out) {}

  Status Load() {
    auto mapped = MappedFile::Open(path_);
    if (!mapped.ok()) return Status::Error("[gguf] " + mapped.message());
    mapping_ = std::move(mapped).value();
    data_ = mapping_->data();
    size_ = mapping_->size();

    if (size_ < 4 || std::memcmp(data_, "GGUF", 4) != 0) return Error("not a GGUF file (bad magic)");
    pos_ = 4;
    uint32_t version = 0;
    ANSER_RETURN_IF_ERROR(U32(&version, "version"));
    // Version 1 used 32-bit counts and lengths; nothing current writes it.
    if (version != 2 && version != 3) {
      return Error("unsupported GGUF version " + std::to_string(version) + " (expected 2 or 3)");
    }
    out_->version = version;
    uint64_t n_tensors = 0, n_kv = 0;
    ANSER_RETURN_IF_ERROR(U64(&n_tensors, "tensor count"));
    ANSER_RETURN_IF_ERROR(U64(&n_kv, "metadata count"));
    // A key-value pair takes at least 8 + 4 + 1 bytes, a tensor info 8 + 4 + 8 + 4 + 8.
    if (n_kv > Remaining() / 13) return Error("metadata count " + std::to_string(n_kv) + " exceeds the file");
    if (n_kv > kMaxMetadataKeys) {
      return Error("metadata count " + std::to_string(n_kv) + " is above the limit of " +
                   std::to_string(kMaxMetadataKeys) + " keys");
    }
    for (uint64_t k = 0; k < n_kv; ++k) {
      std::string key;
      ANSER_RETURN_IF_ERROR(String(&key, "metadata key", kMaxKeyBytes));
      if (out_->metadata.Find(key) != nullptr) return Error("duplicate metadata key '" + key + "'");
      uint32_t type = 0;
      ANSER_RETURN_IF_ERROR(U32(&type, "type of '" + key + "'"));
      GgufValue value;
      ANSER_RETURN_IF_ERROR(Value(type, key, /*in_array=*/false, &value));
      out_->metadata.Set(std::move(key), std::move(value));
    }
    ANSER_RETURN_IF_ERROR(Alignment());

    if (n_tensors > Remaining() / 32) {
      return Error("tensor count " + std::to_string(n_tensors) + " exceeds the file");
    }
    if (n_tensors > kMaxTensors) {
      return Error("tensor count " + std::to_string(n_tensors) + " is above the limit of " +
                   std::to_string(kMaxTensors) + " tensors");
    }
    std::vector<TensorInfo> infos(n_tensors);
    for (TensorInfo& info : infos) ANSER_RETURN_IF_ERROR(ReadTensorInfo(&info));

    // The data region starts at the next multiple of the alignment.
    const uint64_t align = out_->alignment;
    const uint64_t data_start = (pos_ + align - 1) / align * align;
    if (n_tensors > 0 && data_start > size_) return Error("data region starts past the end of the file");
    const uint64_t data_size = data_start > size_ ? 0 : size_ - data_start;
    ANSER_RETURN_IF_ERROR(CheckNoOverlap(infos));
    for (TensorInfo& info : infos) {
      TensorView& view = info.view;
      const uint64_t offset = info.offset, nbytes = info.nbytes;
      if (offset % align != 0) {
        return Error("tensor '" + view.name + "' offset " + std::to_string(offset) +
                     " is not a multiple of the alignment " + std::to_string(align));
      }
      if (offset > data_size || nbytes > data_size - offset) {
        return Error("tensor '" + view.name + "' (" + std::to_string(nbytes) + " bytes at offset " +
                     std::to_string(offset) + ") runs past the end of the file");
      }
      if (what_ == GgufRead::kMetadata) continue;
      const uint8_t* bytes = data_ + data_start + offset;
      if (info.stored) {
        view.data = Convert(view, bytes, *info.stored, info.ggml_type);
        out_->converted[view.name] = GgufConvertedTensor{info.ggml_type, bytes};
      } else {
        view.data = Place(bytes, nbytes, view.dtype);
      }
      out_->tensors.Add(std::move(view));
    }
    out_->tensors.KeepMapping(mapping_);
    return Status::Ok();
  }

 private:
  Status Error(const std::string& what) const { return Status::Error("[gguf] " + what + " in " + path_); }
  uint64_t Remaining() const { return size_ - pos_; }

  Status Need(uint64_t n, const std::string& what) const {
    if (n > Remaining()) return Error("truncated " + what + " at byte " + std::to_string(pos_));
    return Status::Ok();
  }
  Status U32(uint32_t* v, const std::string& what) {
    ANSER_RETURN_IF_ERROR(Need(4, what));
    *v = LoadLe32(data_ + pos_);
    pos_ += 4;
    return Status::Ok();
  }
  Status U64(uint64_t* v, const std::string& what) {
    ANSER_RETURN_IF_ERROR(Need(8, what));
    *v = LoadLe64(data_ + pos_);
    pos_ += 8;
    return Status::Ok();
  }
  // A string of at most `max_bytes`.
  Status String(std::string* s, const std::string& what, uint64_t max_bytes = UINT64_MAX) {
    uint64_t len = 0;
    ANSER_RETURN_IF_ERROR(U64(&len, what));
    if (len > max_bytes) {
      return Error(what + " of " + std::to_string(len) + " bytes at byte " + std::to_string(pos_ - 8) +
                   " is longer than " + std::to_string(max_bytes));
    }
    ANSER_RETURN_IF_ERROR(Need(len, what + " (" + std::to_string(len) + " bytes)"));
    s->assign(reinterpret_cast<const char*>(data_ + pos_), len);
    pos_ += len;
    return Status::Ok();
  }

  Status Value(uint32_t type, const std::string& key, bool in_array, GgufValue* v) {
    if (!KnownType(type)) return Error("metadata '" + key + "' has unknown value type " + std::to_string(type));
    v->type = static_cast<GgufType>(type);
    const std::string what = "value of '" + key + "'";
    switch (v->type) {
      case GgufType::kU8: case GgufType::kI8: case GgufType::kBool: case GgufType::kU16:
      case GgufType::kI16: case GgufType::kU32: case GgufType::kI32: case GgufType::kU64:
      case GgufType::kI64: {
        const uint64_t n = MinEncodedSize(v->type);
        ANSER_RETURN_IF_ERROR(Need(n, what));
        uint64_t raw = 0;
        for (uint64_t b = 0; b < n; ++b) raw |= static_cast<uint64_t>(data_[pos_ + b]) << (8 * b);
        pos_ += n;
        if (v->type == GgufType::kBool && raw > 1) return Error("metadata '" + key + "' is a bool of value " + std::to_string(raw));
        const bool is_signed = v->type == GgufType::kI8 || v->type == GgufType::kI16 ||
                               v->type == GgufType::kI32 || v->type == GgufType::kI64;
        if (is_signed) {
          // Sign-extend from n bytes.
          const int shift = static_cast<int>(64 - 8 * n);
          v->i = static_cast<int64_t>(raw << shift) >> shift;
        } else {
          v->u = raw;
        }
        return Status::Ok();
      }
      case GgufType::kF32: {
        ANSER_RETURN_IF_ERROR(Need(4, what));
        const uint32_t bits = LoadLe32(data_ + pos_);
        float f;
        std::memcpy(&f, &bits, 4);
        v->f = f;
        pos_ += 4;
        return Status::Ok();
      }
      case GgufType::kF64: {
        ANSER_RETURN_IF_ERROR(Need(8, what));
        const uint64_t bits = LoadLe64(data_ + pos_);
        std::memcpy(&v->f, &bits, 8);
        pos_ += 8;
        return Status::Ok();
      }
      case GgufType::kString:
        return String(&v->s, what);
      case GgufType::kArray: {
        if (in_array) return Error("metadata '" + key + "' is an array of arrays, which GGUF readers do not support");
        uint32_t item_type = 0;
        uint64_t count = 0;
        ANSER_RETURN_IF_ERROR(U32(&item_type, what));
        ANSER_RETURN_IF_ERROR(U64(&count, what));
        if (!KnownType(item_type)) {
          return Error("metadata '" + key + "' is an array of unknown type " + std::to_string(item_type));
        }
        v->item_type = static_cast<GgufType>(item_type);
        if (count > Remaining() / MinEncodedSize(v->item_type)) {
          return Error("metadata '" + key + "' claims " + std::to_string(count) + " items, more than the file holds");
        }
        if (count > kMaxArrayItems - array_items_) {
          return Error("metadata '" + key + "' claims " + std::to_string(count) + " items, above the limit of " +
                       std::to_string(kMaxArrayItems) + " array items in all");
        }
        array_items_ += count;
        v->items.resize(count);
        for (GgufValue& item : v->items) ANSER_RETURN_IF_ERROR(Value(item_type, key, true, &item));
        return Status::Ok();
      }
    }
    return Status::Ok();
  }

  Status Alignment() {
    const GgufValue* a = out_->metadata.Find("general.alignment");
    if (a == nullptr) return Status::Ok();
    const std::optional<int64_t> n = a->AsInt();
    if (a->type != GgufType::kU32 || !n || *n == 0 || (*n & (*n - 1)) != 0) {
      return Error("general.alignment must be a power of two stored as u32");
    }
    out_->alignment = static_cast<uint64_t>(*n);
    return Status::Ok();
  }

  Status ReadTensorInfo(TensorInfo* info) {
    TensorView* view = &info->view;
    uint64_t* offset = &info->offset;
    ANSER_RETURN_IF_ERROR(String(&view->name, "tensor name"));
    if (!names_.insert(view->name).second) return Error("duplicate tensor '" + view->name + "'");
    uint32_t n_dims = 0;
    ANSER_RETURN_IF_ERROR(U32(&n_dims, "dimension count of '" + view->name + "'"));
    if (n_dims > kMaxDims) {
      return Error("tensor '" + view->name + "' has " + std::to_string(n_dims) + " dimensions (at most 4)");
    }
    std::vector<int64_t> ne(n_dims);
    for (uint32_t d = 0; d < n_dims; ++d) {
      uint64_t x = 0;
      ANSER_RETURN_IF_ERROR(U64(&x, "shape of '" + view->name + "'"));
      if (x > static_cast<uint64_t>(INT64_MAX)) return Error("tensor '" + view->name + "' has a negative dimension");
      ne[d] = static_cast<int64_t>(x);
    }
    uint32_t ggml_type = 0;
    ANSER_RETURN_IF_ERROR(U32(&ggml_type, "type of '" + view->name + "'"));
    ANSER_RETURN_IF_ERROR(U64(offset, "offset of '" + view->name + "'"));
    info->ggml_type = ggml_type;
    std::optional<DType> dtype = DTypeFromGgml(ggml_type);
    if (!dtype) {
      info->stored = GgmlDequantBlock(ggml_type);
      if (!info->stored) {
        return Error("tensor '" + view->name + "' has GGML type " + GgmlTypeName(ggml_type) +
                     ", which Anser does not read (it reads " + kReadTypes + ")");
      }
      dtype = GgmlRunAs(ggml_type);
    }
    view->dtype = *dtype;
    // ne[0] is the fastest-varying dimension: PyTorch order is the reverse.
    view->shape.assign(ne.rbegin(), ne.rend());
    const std::optional<uint64_t> numel = CheckedNumel(view->shape);
    if (!numel) return Error("tensor '" + view->name + "' has a shape whose size overflows");
    const int64_t row = ne.empty() ? 1 : ne[0];
    const int64_t block = info->stored ? info->stored->elems : DTypeBlockElems(*dtype);
    if (row % block != 0) {
      return Error("tensor '" + view->name + "' of type " + GgmlTypeName(ggml_type) +
                   " has rows of " + std::to_string(row) + " elements, not a multiple of " +
                   std::to_string(block));
    }
    // Bytes = rows × row bytes; the row bytes are at most 4·row, so bound both factors.
    const uint64_t rows = row == 0 ? 0 : *numel / static_cast<uint64_t>(row);
    const uint64_t row_bytes = info->stored
                                   ? static_cast<uint64_t>(row / block) * info->stored->bytes
                                   : DTypeRowBytes(*dtype, row);
    if (__builtin_mul_overflow(rows, row_bytes, &info->nbytes) || info->nbytes > size_) {
      return Error("tensor '" + view->name + "' " + view->ShapeString() + " is larger than the file");
    }
    return Status::Ok();
  }

  // Two tensors may not share bytes: a writer never does that, and a hostile file could make
  // the packing of one rewrite another.
  Status CheckNoOverlap(const std::vector<TensorInfo>& infos) const {
    std::vector<std::pair<uint64_t, const TensorInfo*>> by_offset;
    by_offset.reserve(infos.size());
    for (const TensorInfo& info : infos) {
      if (info.nbytes > 0) by_offset.emplace_back(info.offset, &info);
    }
    std::sort(by_offset.begin(), by_offset.end(),
              [](const auto& a, const auto& b) { return a.first < b.first; });
    for (size_t i = 1; i < by_offset.size(); ++i) {
      const auto& [prev_offset, prev] = by_offset[i - 1];
      const auto& [offset, info] = by_offset[i];
      if (offset - prev_offset < prev->nbytes) {
        return Error("tensors '" + prev->view.name + "' and '" + info->view.name +
                     "' overlap (bytes " + std::to_string(prev_offset) + "+" +
                     std::to_string(prev->nbytes) + " and " + std::to_string(offset) + "+" +
                     std::to_string(info->nbytes) + ")");
      }
    }
    return Status::Ok();
  }

  // A view into the mapping when its address suits the element type; a copy otherwise (only a
  // file with general.alignment below the element size can cause that). Block types are read
  // byte-wise by the kernels, so any address suits them.
  const void* Place(const uint8_t* bytes, size_t nbytes, DType dtype) {
    if (DTypeIsBlock(dtype)) return bytes;
    return PlaceTensorData(out_->tensors, bytes, nbytes, dtype);
  }

  // The rows of a tensor stored as `ggml_type` in view.dtype (GgmlRunAs), in a buffer the store
  // owns: each row dequantized to float32 and, for a block type, quantized as `anser quantize`
  // does.
  const void* Convert(const TensorView& view, const uint8_t* bytes, GgmlBlock stored,
                      uint32_t ggml_type) {
    const int64_t cols = view.shape.empty() ? 1 : view.shape.back();
    const int64_t rows = cols == 0 ? 0 : view.numel() / cols;
    const size_t stored_row = static_cast<size_t>(cols / stored.elems) * stored.bytes;
    const size_t out_row = DTypeRowBytes(view.dtype, cols);
    auto* out = static_cast<uint8_t*>(out_->tensors.Allocate(static_cast<size_t>(rows) * out_row));
    std::vector<float> scratch(static_cast<size_t>(cols));
    for (int64_t r = 0; r < rows; ++r) {
      ConvertGgmlRow(ggml_type, bytes + static_cast<size_t>(r) * stored_row, cols, scratch.data(),
                     out + static_cast<size_t>(r) * out_row);
    }
    return out;
  }

  std::string path_;
  GgufRead what_;
  GgufFile* out_;
  std::shared_ptr<MappedFile> mapping_;
  const uint8_t* data_ = nullptr;
  uint64_t size_ = 0;
  uint64_t pos_ = 0;
  std::set<std::string> names_;
  uint64_t array_items_ = 0;  // metadata array items read so far
};

}  // namespace

Result<GgufFile> LoadGguf(const std::string& path, GgufRead what) {
  GgufFile file;
  file.tensors = TensorStore(path);
  ANSER_RETURN_IF_ERROR(GgufReader(path, what, &file).Load());
  return file;
}

}  // namespace anser
