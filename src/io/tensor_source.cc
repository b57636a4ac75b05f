#include "io/tensor_source.h"

#include "core/check.h"
#include "kernels/ggml_dequant.h"

namespace anser {

size_t TensorSource::nbytes() const {
  if (ggml_type) {
    const std::optional<GgmlBlock> block = GgmlDequantBlock(*ggml_type);
    ANSER_CHECK(block && !shape.empty() && shape.back() % block->elems == 0,
                "TensorSource: rows do not fit the GGML type's blocks");
    int64_t rows = 1;
    for (size_t i = 0; i + 1 < shape.size(); ++i) rows *= shape[i];
    return static_cast<size_t>(rows * (shape.back() / block->elems)) * block->bytes;
  }
  TensorView v;
  v.dtype = dtype;
  v.shape = shape;
  return v.nbytes();
}

TensorSource SourceOf(const TensorView& view) {
  TensorSource s;
  s.name = view.name;
  s.dtype = view.dtype;
  s.shape = view.shape;
  const void* data = view.data;
  const size_t n = view.nbytes();
  s.produce = [data, n](const ByteSink& sink) { return sink(data, n); };
  return s;
}

}  // namespace anser
