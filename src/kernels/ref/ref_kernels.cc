// The reference kernels: plain scalar C++, the specification every other table is tested
// against. Accumulation is in float, row by row, in index order. Block-quantized weights are
// dequantized exactly (activations stay float), so they define the ideal the fast paths
// approximate.
#include "kernels/kernels.h"
#include "kernels/quant_blocks.h"
#include "kernels/quantize.h"
#include "kernels/train_products.h"

namespace anser {
namespace {

// Converts element i of a stored row of a float type to float.
inline float Load(DType dtype, const uint8_t* row, int64_t i) {
  switch (dtype) {
    case DType::kF32: {
      float f;
      std::memcpy(&f, row + 4 * i, 4);
      return f;
    }
    case DType::kF16: return F16ToF32(LoadU16(row + 2 * i));
    case DType::kBF16: return Bf16ToF32(LoadU16(row + 2 * i));
    default: return 0.0f;
  }
}

float DotRow(const MatRef& w, int64_t row, const float* x) {
  const size_t row_bytes = DTypeRowBytes(w.dtype, w.cols);
  const auto* base = static_cast<const uint8_t*>(w.data) + static_cast<size_t>(row) * row_bytes;
  float acc = 0.0f;
  if (DTypeIsBlock(w.dtype)) {
    float block[kKBlock];
    const int64_t be = DTypeBlockElems(w.dtype);
    const size_t bb = DTypeBlockBytes(w.dtype);
    for (int64_t c = 0; c < w.cols; c += be, base += bb) {
      DequantizeRow(w.dtype, base, be, block);
      for (int64_t j = 0; j < be; ++j) acc += block[j] * x[c + j];
    }
    return acc;
  }
  for (int64_t c = 0; c < w.cols; ++c) acc += Load(w.dtype, base, c) * x[c];
  return acc;
}

void RefMatvec(const MatRef& w, const float* x, float* y) {
  for (int64_t r = 0; r < w.rows; ++r) y[r] = DotRow(w, r, x);
}

void RefMatmul(const MatRef& w, const float* x, int64_t n, float* y) {
  for (int64_t t = 0; t < n; ++t) RefMatvec(w, x + t * w.cols, y + t * w.rows);
}

void RefWkv7(const Wkv7Args& p) {
  const int64_t n = p.head_size;
  for (int64_t t = 0; t < p.n_tokens; ++t) {
    const int64_t o = t * p.stride;
    for (int64_t h = 0; h < p.n_head; ++h) {
      float* s = p.state + h * n * n;
      const int64_t c = o + h * n;
      const float* r = p.r + c;
      const float* w = p.w + c;
      const float* k = p.k + c;
      const float* v = p.v + c;
      const float* a = p.a + c;
      const float* b = p.b + c;
      float* y = p.y + c;
      for (int64_t i = 0; i < n; ++i) {
        float* row = s + i * n;
        float sa = 0.0f;
        for (int64_t j = 0; j < n; ++j) sa += row[j] * a[j];
        float out = 0.0f;
        for (int64_t j = 0; j < n; ++j) {
          row[j] = row[j] * w[j] + sa * b[j] + v[i] * k[j];
          out += row[j] * r[j];
        }
        y[i] = out;
      }
    }
  }
}

void KeepRows(MatRef&, void*) {}

}  // namespace

const CpuKernels& RefKernels() {
  using Train = RefTrainProducts<float>;
  using Bf16 = RefBf16TrainProducts;
  static const Bf16TrainProducts kBf16{Bf16::NN, Bf16::NT, Bf16::TNAcc};
  static const CpuKernels kRef{"ref",     RefMatvec, RefMatmul, RefWkv7, KeepRows,
                               Train::NN, Train::NT, Train::TNAcc, &kBf16};
  return kRef;
}

}  // namespace anser
