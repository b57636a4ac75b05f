#include "io/tensor_bytes.h"

#include <cstring>

namespace anser {

std::optional<uint64_t> CheckedNumel(const std::vector<int64_t>& shape) {
  uint64_t n = 1;
  for (int64_t d : shape) {
    if (d < 0 || __builtin_mul_overflow(n, static_cast<uint64_t>(d), &n)) return std::nullopt;
  }
  // Views report numel as int64_t.
  if (n > static_cast<uint64_t>(INT64_MAX)) return std::nullopt;
  return n;
}

std::optional<uint64_t> CheckedBytes(uint64_t numel, DType dtype) {
  uint64_t bytes;
  if (__builtin_mul_overflow(numel, static_cast<uint64_t>(DTypeSize(dtype)), &bytes)) {
    return std::nullopt;
  }
  return bytes;
}

const void* PlaceTensorData(TensorStore& store, const uint8_t* bytes, size_t nbytes, DType dtype) {
  if (reinterpret_cast<uintptr_t>(bytes) % DTypeSize(dtype) == 0) return bytes;
  void* copy = store.Allocate(nbytes);
  std::memcpy(copy, bytes, nbytes);
  return copy;
}

}  // namespace anser
