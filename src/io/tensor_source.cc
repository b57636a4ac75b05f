#include "io/tensor_source.h"

namespace anser {

size_t TensorSource::nbytes() const {
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
