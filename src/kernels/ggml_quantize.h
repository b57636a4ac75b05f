// Quantization into the GGML types Anser writes for llama.cpp but does not run directly: the
// K-quants q2_K … q6_K (super-blocks of 256), iq4_nl, iq4_xs and q5_1, in llama.cpp's block
// layouts (the inverse of kernels/ggml_dequant.h). Every scale is chosen by a least-squares
// search over roundings, weighted by an importance per column when one is given (an importance
// matrix), by the squared value otherwise — large weights matter most to a product's error.
#pragma once

#include <cstdint>

namespace anser {

// Whether QuantizeGgmlRow writes `ggml_type`.
bool GgmlQuantizable(uint32_t ggml_type);

// Writes `cols` floats as one row of `ggml_type` (GgmlQuantizable; `cols` a multiple of its
// block, GgmlDequantBlock) at `out`. `importance`, if not null, holds `cols` non-negative
// weights: how much each column's error counts.
void QuantizeGgmlRow(uint32_t ggml_type, const float* x, int64_t cols, const float* importance,
                     uint8_t* out);

}  // namespace anser
