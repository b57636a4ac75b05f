#include "kernels/ggml_dequant.h"

#include <cstring>

#include "core/check.h"
#include "core/dtype.h"
#include "kernels/quant_blocks.h"
#include "kernels/quantize.h"

namespace anser {
namespace {

constexpr int kSuper = 256;  // elements of a K-quant or iq4_xs super-block

float Half(const uint8_t* p) { return F16ToF32(LoadU16(p)); }

// {f16 d; f16 m; u8 qh[4]; u8 qs[16]}: as q5_0's bits, value = q·d + m.
void Q5_1Block(const uint8_t* b, float* y) {
  const float d = Half(b), m = Half(b + 2);
  const uint32_t qh = LoadU32(b + 4);
  const uint8_t* qs = b + 8;
  for (int j = 0; j < 16; ++j) {
    const int lo = (qs[j] & 0xF) | (((qh >> j) & 1) << 4);
    const int hi = (qs[j] >> 4) | (((qh >> (j + 16)) & 1) << 4);
    y[j] = static_cast<float>(lo) * d + m;
    y[j + 16] = static_cast<float>(hi) * d + m;
  }
}

// {u8 scales[16]; u8 qs[64]; f16 d; f16 dmin}: 16 groups of 16; group g has scale
// d·(scales[g] & 15) and minimum dmin·(scales[g] >> 4); 2-bit quants as K2BitQuant.
void Q2_KBlock(const uint8_t* b, float* y) {
  const uint8_t* scales = b + kQ2_KScales;
  const float d = Half(b + kQ2_KD), dmin = Half(b + kQ2_KDmin);
  for (int i = 0; i < kSuper; ++i) {
    const int q = K2BitQuant(b + kQ2_KQs, i);
    const uint8_t sc = scales[i / 16];
    y[i] = d * static_cast<float>(sc & 0xF) * static_cast<float>(q) -
           dmin * static_cast<float>(sc >> 4);
  }
}

// {u8 hmask[32]; u8 qs[64]; u8 scales[12]; f16 d}: 2 low bits as q2_K, the third bit from
// hmask (Q3KQuant); sixteen 6-bit scales with offset 32 (Q3KScale).
void Q3_KBlock(const uint8_t* b, float* y) {
  const float d = Half(b + kQ3_KD);
  for (int i = 0; i < kSuper; ++i) {
    const int scale = Q3KScale(b + kQ3_KScales, i / 16) - 32;
    y[i] = d * static_cast<float>(scale) * static_cast<float>(Q3KQuant(b, i));
  }
}

// {f16 d; f16 dmin; u8 scales[12]; u8 qs[128]}: 8 sub-blocks of 32; sub-block j takes the low
// (j even) or high (j odd) nibbles of qs[32·(j / 2) …]; value = d·sc·q − dmin·m.
void Q4_KBlock(const uint8_t* b, float* y) {
  const float d = Half(b), dmin = Half(b + kQ4_KDmin);
  const uint8_t* scales = b + kQ4_KScales;
  const uint8_t* qs = b + kQ4_KQs;
  for (int j = 0; j < 8; ++j) {
    int sc = 0, m = 0;
    KScaleMin(scales, j, &sc, &m);
    const float dl = d * static_cast<float>(sc), ml = dmin * static_cast<float>(m);
    for (int l = 0; l < 32; ++l) {
      const int q = (qs[32 * (j / 2) + l] >> (4 * (j % 2))) & 0xF;
      y[32 * j + l] = dl * static_cast<float>(q) - ml;
    }
  }
}

// {f16 d; f16 dmin; u8 scales[12]; u8 qh[32]; u8 qs[128]}: q4_K with a fifth bit, bit j of
// qh[l] for element l of sub-block j.
void Q5_KBlock(const uint8_t* b, float* y) {
  const float d = Half(b), dmin = Half(b + kQ4_KDmin);
  const uint8_t* scales = b + kQ4_KScales;
  const uint8_t* qh = b + kQ5_KQh;
  const uint8_t* qs = b + kQ5_KQs;
  for (int j = 0; j < 8; ++j) {
    int sc = 0, m = 0;
    KScaleMin(scales, j, &sc, &m);
    const float dl = d * static_cast<float>(sc), ml = dmin * static_cast<float>(m);
    for (int l = 0; l < 32; ++l) {
      const int q = ((qs[32 * (j / 2) + l] >> (4 * (j % 2))) & 0xF) | (((qh[l] >> j) & 1) << 4);
      y[32 * j + l] = dl * static_cast<float>(q) - ml;
    }
  }
}

// {u8 ql[128]; u8 qh[64]; int8 scales[16]; f16 d}: per 128-half, element 32·k + l (k 0..3)
// takes the low (k < 2) or high nibble of ql[64·half + 32·(k % 2) + l] and bits 2k, 2k+1 of
// qh[32·half + l]; scale of 16 elements each; value = d·scale·(q − 32).
void Q6_KBlock(const uint8_t* b, float* y) {
  const uint8_t* ql = b + kQ6_KQl;
  const uint8_t* qh = b + kQ6_KQh;
  const auto* scales = reinterpret_cast<const int8_t*>(b + kQ6_KScales);
  const float d = Half(b + kQ6_KD);
  for (int i = 0; i < kSuper; ++i) {
    const int half = i / 128, k = (i % 128) / 32, l = i % 32;
    const int low = (ql[64 * half + 32 * (k % 2) + l] >> (4 * (k / 2))) & 0xF;
    const int high = (qh[32 * half + l] >> (2 * k)) & 3;
    const int q = (low | (high << 4)) - 32;
    y[i] = d * static_cast<float>(scales[i / 16]) * static_cast<float>(q);
  }
}

// {f32 d; int8 qs[256]; int16 bsums[16]}: value = d·q.
void Q8_KBlock(const uint8_t* b, float* y) {
  float d;
  std::memcpy(&d, b, 4);
  const auto* qs = reinterpret_cast<const int8_t*>(b + 4);
  for (int i = 0; i < kSuper; ++i) y[i] = d * static_cast<float>(qs[i]);
}

// {f16 d; u8 qs[16]}: nibbles as q4_0; value = d·level[q].
void Iq4NlBlock(const uint8_t* b, float* y) {
  const float d = Half(b);
  for (int j = 0; j < 16; ++j) {
    y[j] = d * static_cast<float>(kIq4Levels[b[2 + j] & 0xF]);
    y[j + 16] = d * static_cast<float>(kIq4Levels[b[2 + j] >> 4]);
  }
}

// {f16 d; u16 scales_h; u8 scales_l[4]; u8 qs[128]}: 8 iq4_nl-style sub-blocks of 32 whose
// 6-bit scales (offset 32) are a nibble of scales_l and 2 bits of scales_h.
void Iq4XsBlock(const uint8_t* b, float* y) {
  const float d = Half(b);
  const uint8_t* qs = b + kIQ4_XSQs;
  for (int j = 0; j < 8; ++j) {
    const float dl = d * static_cast<float>(Iq4XsScale(b, j) - 32);
    for (int l = 0; l < 16; ++l) {
      y[32 * j + l] = dl * static_cast<float>(kIq4Levels[qs[16 * j + l] & 0xF]);
      y[32 * j + l + 16] = dl * static_cast<float>(kIq4Levels[qs[16 * j + l] >> 4]);
    }
  }
}

using BlockFn = void (*)(const uint8_t*, float*);

struct Layout {
  GgmlBlock block;
  BlockFn dequantize;
};

std::optional<Layout> Find(uint32_t ggml_type) {
  switch (ggml_type) {
    case kGgmlQ5_1:
      return Layout{{kQBlock, 24}, Q5_1Block};
    case kGgmlQ2_K:
      return Layout{{kSuper, kQ2_KBytes}, Q2_KBlock};
    case kGgmlQ3_K:
      return Layout{{kSuper, kQ3_KBytes}, Q3_KBlock};
    case kGgmlQ4_K:
      return Layout{{kSuper, 144}, Q4_KBlock};
    case kGgmlQ5_K:
      return Layout{{kSuper, 176}, Q5_KBlock};
    case kGgmlQ6_K:
      return Layout{{kSuper, 210}, Q6_KBlock};
    case kGgmlQ8_K:
      return Layout{{kSuper, 292}, Q8_KBlock};
    case kGgmlIq4Nl:
      return Layout{{kQBlock, 18}, Iq4NlBlock};
    case kGgmlIq4Xs:
      return Layout{{kSuper, 136}, Iq4XsBlock};
    default:
      return std::nullopt;
  }
}

}  // namespace

std::optional<GgmlBlock> GgmlDequantBlock(uint32_t ggml_type) {
  const std::optional<Layout> layout = Find(ggml_type);
  if (!layout) return std::nullopt;
  return layout->block;
}

std::optional<uint32_t> GgmlNativeType(DType dtype) {
  switch (dtype) {
    case DType::kQ4_K: return kGgmlQ4_K;
    case DType::kQ5_K: return kGgmlQ5_K;
    case DType::kQ6_K: return kGgmlQ6_K;
    case DType::kIQ4_NL: return kGgmlIq4Nl;
    case DType::kQ5_1: return kGgmlQ5_1;
    case DType::kIQ4_XS: return kGgmlIq4Xs;
    case DType::kQ3_K:
      return kGgmlQ3_K;
    case DType::kQ2_K:
      return kGgmlQ2_K;
    default: return std::nullopt;
  }
}

DType GgmlRunAs(uint32_t ggml_type) {
  switch (ggml_type) {
    case kGgmlQ4_K: return DType::kQ4_K;
    case kGgmlQ5_K: return DType::kQ5_K;
    case kGgmlQ6_K: return DType::kQ6_K;
    case kGgmlIq4Nl: return DType::kIQ4_NL;
    case kGgmlQ5_1: return DType::kQ5_1;
    case kGgmlIq4Xs: return DType::kIQ4_XS;
    case kGgmlQ3_K:
      return DType::kQ3_K;
    case kGgmlQ2_K:
      return DType::kQ2_K;
    default: return DType::kQ8_0;
  }
}

void ConvertGgmlRow(uint32_t ggml_type, const uint8_t* row, int64_t cols, float* scratch, uint8_t* out) {
  const DType run_as = GgmlRunAs(ggml_type);
  if (GgmlNativeType(run_as) == ggml_type) {
    std::memcpy(out, row, DTypeRowBytes(run_as, cols));
  } else {
    DequantizeGgmlRow(ggml_type, row, cols, scratch);
    QuantizeRow(run_as, scratch, cols, out);
  }
}

void DequantizeGgmlRow(uint32_t ggml_type, const uint8_t* row, int64_t cols, float* out) {
  const std::optional<Layout> layout = Find(ggml_type);
  ANSER_CHECK(layout.has_value() && cols % layout->block.elems == 0,
              "DequantizeGgmlRow: not a type it reads, or cols not a multiple of its block");
  for (int64_t i = 0; i < cols / layout->block.elems; ++i) {
    layout->dequantize(row + static_cast<size_t>(i) * layout->block.bytes,
                       out + i * layout->block.elems);
  }
}

}  // namespace anser
