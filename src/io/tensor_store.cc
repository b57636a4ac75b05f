#include "io/tensor_store.h"

#include <cstdlib>
#include <new>

namespace anser {

int64_t TensorView::numel() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

size_t TensorView::nbytes() const {
  if (shape.empty()) return DTypeSize(dtype);
  const int64_t cols = shape.back();
  if (cols == 0) return 0;
  return static_cast<size_t>(numel() / cols) * DTypeRowBytes(dtype, cols);
}

std::string TensorView::ShapeString() const {
  std::string s = "(";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ", ";
    s += std::to_string(shape[i]);
  }
  if (shape.size() == 1) s += ",";
  return s + ")";
}

void TensorStore::Add(TensorView view) {
  auto it = index_.find(view.name);
  if (it != index_.end()) {
    tensors_[it->second] = std::move(view);
    return;
  }
  index_.emplace(view.name, tensors_.size());
  tensors_.push_back(std::move(view));
}

void* TensorStore::Allocate(size_t nbytes) {
  // 64-byte aligned so SIMD kernels may read it with aligned loads.
  const size_t rounded = (nbytes + 63) / 64 * 64;
  void* p = std::aligned_alloc(64, rounded == 0 ? 64 : rounded);
  if (p == nullptr) throw std::bad_alloc();
  backings_.push_back(std::shared_ptr<const void>(p, [](const void* q) { std::free(const_cast<void*>(q)); }));
  return p;
}

void TensorStore::KeepMapping(std::shared_ptr<const MappedFile> file) {
  mappings_.push_back(std::move(file));
}

void TensorStore::KeepStore(std::shared_ptr<const TensorStore> inner) {
  mappings_.insert(mappings_.end(), inner->mappings_.begin(), inner->mappings_.end());
  backings_.push_back(std::move(inner));
}

void TensorStore::DropFilePages(const TensorView& view) const {
  const auto at = reinterpret_cast<uintptr_t>(view.data);
  const size_t n = view.nbytes();
  for (const std::shared_ptr<const MappedFile>& file : mappings_) {
    const auto begin = reinterpret_cast<uintptr_t>(file->data());
    if (at >= begin && n <= file->size() && at - begin <= file->size() - n) {
      anser::DropFilePages(view.data, n);
      return;
    }
  }
}

const TensorView* TensorStore::Find(std::string_view name) const {
  auto it = index_.find(name);
  return it == index_.end() ? nullptr : &tensors_[it->second];
}

}  // namespace anser
