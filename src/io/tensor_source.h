// TensorSource: a tensor to be written, produced on demand. Writers stream sources straight to
// the file, so converting or quantizing a model never holds a second copy of its weights.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "anser/status.h"
#include "core/dtype.h"
#include "io/tensor_store.h"

namespace anser {

// Receives consecutive pieces of a tensor's bytes.
using ByteSink = std::function<Status(const void* data, size_t size)>;

struct TensorSource {
  std::string name;
  DType dtype = DType::kF32;
  std::vector<int64_t> shape;  // PyTorch order
  // GGUF only: a GGML type Anser writes but runs only after converting it at load (q4_K,
  // iq4_xs, … : kernels/ggml_quantize.h); when set it is the stored type, not `dtype`.
  std::optional<uint32_t> ggml_type;
  // Passes exactly nbytes() bytes to `sink`, in order, in pieces of any size.
  std::function<Status(const ByteSink& sink)> produce;

  size_t nbytes() const;
};

// The bytes of `view` as they are (the view's memory must outlive the source).
TensorSource SourceOf(const TensorView& view);

}  // namespace anser
