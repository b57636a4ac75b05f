// Shared helpers of the kernel tests: random data, misaligned buffers, relative L2 error.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "core/dtype.h"
#include "kernels/kernels.h"
#include "kernels/quantize.h"

namespace anser::testing {

inline std::vector<float> RandomFloats(int64_t n, uint32_t seed, float scale = 1.0f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, scale);
  std::vector<float> v(static_cast<size_t>(n));
  for (float& f : v) f = dist(rng);
  return v;
}

// ‖got − want‖ / ‖want‖ (the absolute error when want is zero); NaN anywhere gives NaN.
inline double RelL2(const float* got, const float* want, int64_t n) {
  double err = 0.0, ref = 0.0;
  for (int64_t i = 0; i < n; ++i) {
    const double d = static_cast<double>(got[i]) - want[i];
    err += d * d;
    ref += static_cast<double>(want[i]) * want[i];
  }
  if (std::isnan(err)) return err;
  return ref > 0.0 ? std::sqrt(err / ref) : std::sqrt(err);
}

// ‖got − want‖ for a product y = W·x (n tokens) relative to sqrt(Σ (w_ij·x_tj)²): the rms size
// y would have if the products' signs were random. Unlike ‖want‖ it does not shrink when a
// single output happens to cancel, so one bound serves any row count.
inline double ProductError(const float* got, const float* want, const MatRef& w, const float* x,
                           int64_t n) {
  std::vector<float> row(static_cast<size_t>(w.cols));
  const size_t row_bytes = DTypeRowBytes(w.dtype, w.cols);
  double scale = 0.0, err = 0.0;
  for (int64_t i = 0; i < w.rows; ++i) {
    DequantizeRow(w.dtype, static_cast<const uint8_t*>(w.data) + i * row_bytes, w.cols, row.data());
    for (int64_t t = 0; t < n; ++t) {
      for (int64_t j = 0; j < w.cols; ++j) {
        const double p = static_cast<double>(row[j]) * x[t * w.cols + j];
        scale += p * p;
      }
      const double d = static_cast<double>(got[t * w.rows + i]) - want[t * w.rows + i];
      err += d * d;
    }
  }
  if (std::isnan(err)) return err;
  return scale > 0.0 ? std::sqrt(err / scale) : std::sqrt(err);
}

// Bytes starting `offset` bytes past a 64-byte boundary, so tests choose the misalignment.
class Buffer {
 public:
  Buffer(size_t bytes, size_t offset) : storage_(bytes + offset + 64), offset_(offset) {}
  uint8_t* data() {
    const auto base = reinterpret_cast<uintptr_t>(storage_.data());
    return reinterpret_cast<uint8_t*>((base + 63) / 64 * 64) + offset_;
  }
  float* floats() { return reinterpret_cast<float*>(data()); }

 private:
  std::vector<uint8_t> storage_;
  size_t offset_;
};

// A rows × cols matrix of `dtype` built from random floats, stored `offset` bytes misaligned.
struct TestMatrix {
  TestMatrix(DType dtype, int64_t rows, int64_t cols, size_t offset, uint32_t seed)
      : buffer(DTypeRowBytes(dtype, cols) * static_cast<size_t>(rows), offset),
        packed(DTypeRowBytes(dtype, cols) * static_cast<size_t>(rows), offset) {
    const std::vector<float> values = RandomFloats(rows * cols, seed);
    const size_t row_bytes = DTypeRowBytes(dtype, cols);
    for (int64_t r = 0; r < rows; ++r) {
      QuantizeRow(dtype, values.data() + r * cols, cols, buffer.data() + r * row_bytes);
    }
    ref = MatRef{dtype, buffer.data(), rows, cols};
  }
  // The matrix as stored, then as table k packs it (a copy, so `ref` keeps the stored bytes).
  std::vector<MatRef> Layouts(const CpuKernels& k) {
    const size_t bytes = DTypeRowBytes(ref.dtype, ref.cols) * static_cast<size_t>(ref.rows);
    std::copy(buffer.data(), buffer.data() + bytes, packed.data());
    MatRef p = ref;
    p.data = packed.data();
    k.pack(p, packed.data());
    return {ref, p};
  }
  Buffer buffer;
  Buffer packed;
  MatRef ref;
};

inline std::string LayoutName(const MatRef& w) {
  return w.layout == MatLayout::kRows     ? "rows"
         : w.layout == MatLayout::kTiles8 ? "tiles8"
                                          : "tiles16";
}

// Floats copied into a buffer misaligned by `offset_floats` floats.
struct TestVector {
  TestVector(const std::vector<float>& values, size_t offset_floats)
      : buffer(values.size() * sizeof(float), offset_floats * sizeof(float)) {
    std::copy(values.begin(), values.end(), buffer.floats());
  }
  float* data() { return buffer.floats(); }
  Buffer buffer;
};

// An output of n floats plus one guard, all NaN: a kernel must write exactly the n.
struct Output {
  Output(int64_t count, size_t offset_floats)
      : n(count),
        buffer(static_cast<size_t>(count + 1) * sizeof(float), offset_floats * sizeof(float)) {
    std::fill(data(), data() + count + 1, std::numeric_limits<float>::quiet_NaN());
  }
  float* data() { return buffer.floats(); }
  bool GuardIntact() { return std::isnan(data()[n]); }
  int64_t n;
  Buffer buffer;
};

inline std::vector<const CpuKernels*> FastKernels() {
  std::vector<const CpuKernels*> all = AllKernels();
  all.erase(all.begin());  // the reference itself
  return all;
}

inline std::string Describe(const CpuKernels& k, DType dtype, int64_t rows, int64_t cols,
                            size_t misalign) {
  return std::string(k.name) + " " + std::string(DTypeName(dtype)) + " " + std::to_string(rows) +
         "x" + std::to_string(cols) + " misalign " + std::to_string(misalign);
}

}  // namespace anser::testing
