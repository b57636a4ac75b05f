// SaveTorchPth: a TensorStore's views → the archive `torch.save` (PyTorch 1.13, new zipfile
// serialization) writes for a dict of contiguous CPU tensors, byte for byte.
#include <algorithm>
#include <optional>
#include <unordered_set>

#include "io/atomic_file_writer.h"
#include "io/byte_output.h"
#include "io/formats.h"
#include "io/pickle_writer.h"
#include "io/tensor_bytes.h"
#include "io/torch_pth_common.h"
#include "io/zip_writer.h"

namespace anser {
namespace {

// Python's pickler memoizes every string, tuple, global and reduced object, and reuses the
// memo for objects it meets again by identity: the shared globals, the literal 'storage' and
// 'cpu' strings. Replaying that makes the output identical to torch's.
class StateDictPickler {
 public:
  // The tensors' storages are keyed "0", "1", … in dict order.
  std::string Pickle(const std::vector<TensorView>& tensors) {
    w_.EmptyDict();
    w_.Put();
    // CPython's batched_setitems: SETITEMS per 1000 items, a lone last item uses SETITEM.
    constexpr size_t kBatch = 1000;
    for (size_t start = 0; start < tensors.size(); start += kBatch) {
      const size_t n = std::min(kBatch, tensors.size() - start);
      if (n > 1) w_.Mark();
      for (size_t i = start; i < start + n; ++i) SaveTensor(tensors[i], i);
      if (n > 1) {
        w_.SetItems();
      } else {
        w_.SetItem();
      }
    }
    w_.Stop();
    return w_.bytes();
  }

 private:
  void SaveGlobal(std::optional<uint32_t>& memo, std::string_view module, std::string_view name) {
    if (memo) {
      w_.Get(*memo);
    } else {
      w_.Global(module, name);
      memo = w_.Put();
    }
  }
  void SaveSharedString(std::optional<uint32_t>& memo, std::string_view s) {
    if (memo) {
      w_.Get(*memo);
    } else {
      w_.String(s);
      memo = w_.Put();
    }
  }
  // Python tuples of ints: () has its own opcode and is never memoized.
  void SaveIntTuple(const std::vector<int64_t>& values) {
    if (values.empty()) {
      w_.EmptyTuple();
      return;
    }
    if (values.size() > 3) w_.Mark();
    for (int64_t v : values) w_.Int(v);
    if (values.size() > 3) {
      w_.Tuple();
    } else {
      w_.TupleN(static_cast<int>(values.size()));
    }
    w_.Put();
  }

  // key: _rebuild_tensor_v2(pid('storage', <T>Storage, 'i', 'cpu', numel), 0, size, stride,
  //                         False, OrderedDict())
  void SaveTensor(const TensorView& t, size_t index) {
    w_.String(t.name);
    w_.Put();
    SaveGlobal(rebuild_memo_, "torch._utils", "_rebuild_tensor_v2");
    w_.Mark();
    w_.Mark();
    SaveSharedString(storage_memo_, "storage");
    SaveGlobal(storage_type_memo_[static_cast<size_t>(t.dtype)], "torch",
               *TorchStorageName(t.dtype));
    w_.String(std::to_string(index));
    w_.Put();
    SaveSharedString(cpu_memo_, "cpu");
    w_.Int(t.numel());
    w_.Tuple();
    w_.Put();
    w_.PersistentId();
    w_.Int(0);
    SaveIntTuple(t.shape);
    std::vector<int64_t> stride(t.shape.size());
    int64_t s = 1;
    for (size_t i = t.shape.size(); i-- > 0;) {
      stride[i] = s;
      s *= std::max<int64_t>(t.shape[i], 1);
    }
    SaveIntTuple(stride);
    w_.Bool(false);
    SaveGlobal(ordered_dict_memo_, "collections", "OrderedDict");
    w_.EmptyTuple();
    w_.Reduce();
    w_.Put();
    w_.Tuple();
    w_.Put();
    w_.Reduce();
    w_.Put();
  }

  PickleWriter w_;
  std::optional<uint32_t> rebuild_memo_, storage_memo_, cpu_memo_, ordered_dict_memo_;
  std::optional<uint32_t> storage_type_memo_[256];
};

Status Validate(const std::vector<TensorView>& tensors) {
  std::unordered_set<std::string_view> names;
  for (const TensorView& t : tensors) {
    const std::string what = "[torch_pth] cannot save tensor '" + t.name + "': ";
    if (!TorchStorageName(t.dtype)) {
      return Status::Error(what + "no torch storage for " + std::string(DTypeName(t.dtype)));
    }
    const std::optional<uint64_t> numel = CheckedNumel(t.shape);
    if (!numel || !CheckedBytes(*numel, t.dtype)) {
      return Status::Error(what + "invalid shape " + t.ShapeString());
    }
    if (*numel > 0 && t.data == nullptr) return Status::Error(what + "no data");
    if (!names.insert(t.name).second) return Status::Error(what + "duplicate name");
  }
  return Status::Ok();
}

// The archive of `tensors` under the top folder `top`, into `out`.
Status WriteTorchPth(ByteOutput& out, const std::string& top, const std::vector<TensorView>& tensors) {
  ANSER_RETURN_IF_ERROR(Validate(tensors));
  const std::string pickle = StateDictPickler().Pickle(tensors);
  ZipWriter zip(&out);
  ANSER_RETURN_IF_ERROR(zip.AddEntry(top + "/data.pkl", pickle.data(), pickle.size()));
  // torch writes the storages in the order of their keys sorted as strings ("0", "1", "10").
  std::vector<std::pair<std::string, size_t>> keys;
  keys.reserve(tensors.size());
  for (size_t i = 0; i < tensors.size(); ++i) keys.emplace_back(std::to_string(i), i);
  std::sort(keys.begin(), keys.end());
  for (const auto& [key, i] : keys) {
    ANSER_RETURN_IF_ERROR(zip.AddEntry(top + "/data/" + key, tensors[i].data, tensors[i].nbytes()));
  }
  ANSER_RETURN_IF_ERROR(zip.AddEntry(top + "/version", "3\n", 2));
  return zip.Finish();
}

}  // namespace

Status SaveTorchPth(const std::string& path, const std::vector<TensorView>& tensors) {
  AtomicFileWriter out;
  ANSER_RETURN_IF_ERROR(out.Open(path));
  ANSER_RETURN_IF_ERROR(WriteTorchPth(out, TorchArchiveName(path), tensors));
  return out.Commit();
}

Result<std::string> TorchPthBytes(const std::vector<TensorView>& tensors, const std::string& name) {
  StringOutput out;
  ANSER_RETURN_IF_ERROR(WriteTorchPth(out, TorchArchiveName(name), tensors));
  return out.Take();
}

}  // namespace anser
