// TensorStore: what every file format turns into — named views (PyTorch shape order) into
// memory the store keeps alive (a file mapping or an owned buffer).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/dtype.h"
#include "core/mapped_file.h"
#include "kernels/kernels.h"

namespace anser {

struct TensorView {
  std::string name;
  DType dtype = DType::kF32;
  std::vector<int64_t> shape;  // PyTorch order, row-major, contiguous
  const void* data = nullptr;
  // kRows: as stored. A tile layout: a block-quantized matrix's bytes as a kernel table's `pack`
  // left them (a packed GGUF file, docs/FORMATS.md); the same size.
  MatLayout layout = MatLayout::kRows;

  int64_t numel() const;
  // Bytes as stored; block-quantized types are counted in whole rows (last dimension).
  size_t nbytes() const;
  std::string ShapeString() const;  // "(2048, 64)"
};

class TensorStore {
 public:
  // `source` names the file or folder in error messages.
  explicit TensorStore(std::string source = {}) : source_(std::move(source)) {}

  void Add(TensorView view);                      // replaces a view of the same name
  void KeepAlive(std::shared_ptr<const void> backing) { backings_.push_back(std::move(backing)); }
  // Keeps a file mapping alive and remembers it, so DropFilePages can release views into it.
  void KeepMapping(std::shared_ptr<const MappedFile> file);
  // Keeps `inner`, whose views this store renames or reuses, alive with its mappings.
  void KeepStore(std::shared_ptr<const TensorStore> inner);
  // Releases the memory of `view`'s whole pages where it lies in a kept file mapping (a no-op
  // elsewhere): for a tensor that was copied into another layout, and which is then read again
  // (from the file) only if someone asks. Never for a view whose bytes were rewritten in place.
  void DropFilePages(const TensorView& view) const;
  // Owns a new buffer of `nbytes` and returns it, for formats that must convert on load.
  void* Allocate(size_t nbytes);

  const TensorView* Find(std::string_view name) const;
  const std::vector<TensorView>& tensors() const { return tensors_; }  // in insertion order
  const std::string& source() const { return source_; }

 private:
  std::string source_;
  std::vector<TensorView> tensors_;
  std::map<std::string, size_t, std::less<>> index_;
  std::vector<std::shared_ptr<const void>> backings_;
  std::vector<std::shared_ptr<const MappedFile>> mappings_;
};

}  // namespace anser
