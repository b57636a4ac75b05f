#include "model/tensor_scan.h"

#include <cmath>

#include "kernels/quantize.h"

namespace anser {

std::vector<TensorScan> ScanTensors(
    const TensorStore& store, const std::function<void(size_t done, size_t total)>& progress) {
  std::vector<TensorScan> scans;
  const std::vector<TensorView>& tensors = store.tensors();
  std::vector<float> row;
  for (const TensorView& t : tensors) {
    TensorScan scan;
    scan.name = t.name;
    scan.dtype = t.dtype;
    scan.limit = t.name == "emb.weight" ? kMaxAbsEmbedding : kMaxAbsWeight;
    const int64_t cols = t.shape.empty() ? 1 : t.shape.back();
    const int64_t rows = cols == 0 ? 0 : t.numel() / cols;
    const size_t row_bytes = DTypeRowBytes(t.dtype, cols);
    row.resize(static_cast<size_t>(cols));
    for (int64_t r = 0; r < rows; ++r) {
      DequantizeRow(t.dtype,
                    static_cast<const uint8_t*>(t.data) + static_cast<size_t>(r) * row_bytes, cols,
                    row.data());
      for (float v : row) {
        if (std::isnan(v)) {
          ++scan.nan;
        } else if (std::isinf(v)) {
          ++scan.inf;
        } else if (std::fabs(v) > scan.max_abs) {
          scan.max_abs = std::fabs(v);
        }
      }
    }
    scans.push_back(std::move(scan));
    if (progress) progress(scans.size(), tensors.size());
  }
  return scans;
}

}  // namespace anser
