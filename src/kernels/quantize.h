// Reference conversions between float rows and stored rows of any float or block type: what
// the kernels' tests use and what writing a quantized model uses. Plain scalar C++.
#pragma once

#include <cstdint>

#include "core/dtype.h"

namespace anser {

// Stores `cols` floats as one row of `dtype` (f32, f16, bf16 or a block type) at `out`
// (DTypeRowBytes(dtype, cols) bytes, any alignment). The 32-element block types round to nearest
// exactly as GGML's reference quantizers do, so rows match the files llama.cpp writes; the
// K-quants take QuantizeGgmlRow's search (kernels/ggml_quantize.h) without an importance matrix.
// For block types `cols` must be a multiple of the block.
void QuantizeRow(DType dtype, const float* x, int64_t cols, void* out);

// The inverse: `cols` floats from a stored row.
void DequantizeRow(DType dtype, const void* row, int64_t cols, float* out);

}  // namespace anser
