// Byte-level helpers the loaders share: overflow-checked tensor sizes, and placing a view's
// data so that it is safe to read as its element type.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "core/dtype.h"
#include "io/tensor_store.h"

namespace anser {

// numel × element size of `shape`, or nothing if a dimension is negative or the product
// overflows (hostile headers can claim any shape).
std::optional<uint64_t> CheckedNumel(const std::vector<int64_t>& shape);
std::optional<uint64_t> CheckedBytes(uint64_t numel, DType dtype);

// Points the view at `bytes` inside a mapping when it is aligned to the element size;
// otherwise copies the `nbytes` into an aligned buffer owned by `store`, because dereferencing
// a misaligned float pointer is undefined behaviour. Writers in the wild align (torch to 64
// bytes, safetensors to 8), so the copy is the rare exception.
const void* PlaceTensorData(TensorStore& store, const uint8_t* bytes, size_t nbytes, DType dtype);

}  // namespace anser
