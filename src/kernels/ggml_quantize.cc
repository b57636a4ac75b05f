#include "kernels/ggml_quantize.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "core/check.h"
#include "core/dtype.h"
#include "kernels/ggml_dequant.h"
#include "kernels/quant_blocks.h"

namespace anser {
namespace {

constexpr int kSuper = 256;  // elements of a K-quant or iq4_xs super-block
// Roundings tried around each group's natural scale: 2·kSteps + 1 candidates.
constexpr int kSteps = 10;

void StoreHalf(uint8_t* p, float v) {
  const uint16_t h = F32ToF16(v);
  std::memcpy(p, &h, 2);
}

// v as stored in f16 and read back: the scale the dequantizer will use.
float AsHalf(float v) { return F16ToF32(F32ToF16(v)); }

int RoundClamp(float v, int lo, int hi) {
  return std::clamp(static_cast<int>(std::lrint(v)), lo, hi);
}

// The weight of each element's error: the column's importance (1 without a matrix) times
// rms + |x| — larger values weigh more, none counts for nothing. A group whose columns the
// calibration text never reached (importance 0 throughout) is weighed as if there were no
// matrix: rounding it to zero would lose what other text needs.
void Weights(const float* x, const float* importance, int n, float* w) {
  double sum2 = 0;
  bool reached = false;
  for (int i = 0; i < n; ++i) {
    sum2 += static_cast<double>(x[i]) * x[i];
    reached = reached || (importance != nullptr && importance[i] > 0);
  }
  const float* imp = reached ? importance : nullptr;
  const float rms = static_cast<float>(std::sqrt(sum2 / n));
  for (int i = 0; i < n; ++i) w[i] = (imp ? imp[i] : 1.0f) * (rms + std::fabs(x[i]));
}

// x ≈ s·q + b with integer q in [0, nmax]: the weighted least-squares s and b over the roundings
// of 2·kSteps + 1 scales around (max − min)/nmax. With `offset_at_most_zero` b ≤ 0 (the K-quants
// store −b as a non-negative minimum).
struct Affine {
  float s = 0, b = 0;
};

Affine FitAffine(const float* x, const float* w, int n, int nmax, bool offset_at_most_zero) {
  float lo = *std::min_element(x, x + n), hi = *std::max_element(x, x + n);
  if (offset_at_most_zero) lo = std::min(lo, 0.0f);
  if (!(hi > lo)) return {0.0f, lo};
  Affine best{(hi - lo) / static_cast<float>(nmax), lo};
  double best_err = std::numeric_limits<double>::infinity();
  std::vector<int> q(static_cast<size_t>(n));
  auto error = [&](float s, float b) {
    double e = 0;
    for (int i = 0; i < n; ++i) {
      const double d = static_cast<double>(s) * q[i] + b - x[i];
      e += w[i] * d * d;
    }
    return e;
  };
  for (int i = 0; i < n; ++i) q[i] = RoundClamp((x[i] - lo) / best.s, 0, nmax);
  best_err = error(best.s, best.b);
  for (int k = -kSteps; k <= kSteps; ++k) {
    const float iscale = (static_cast<float>(nmax) + 0.1f * static_cast<float>(k)) / (hi - lo);
    double sw = 0, sq = 0, sqq = 0, sx = 0, sqx = 0;
    for (int i = 0; i < n; ++i) {
      q[i] = RoundClamp(iscale * (x[i] - lo), 0, nmax);
      sw += w[i], sq += w[i] * q[i], sqq += w[i] * q[i] * q[i];
      sx += w[i] * x[i], sqx += w[i] * q[i] * x[i];
    }
    const double det = sw * sqq - sq * sq;
    if (!(det > 0)) continue;
    double s = (sw * sqx - sq * sx) / det, b = (sqq * sx - sq * sqx) / det;
    if (offset_at_most_zero && b > 0) b = 0, s = sqx / sqq;
    if (!(s > 0)) continue;
    const double e = error(static_cast<float>(s), static_cast<float>(b));
    if (e < best_err) best_err = e, best = {static_cast<float>(s), static_cast<float>(b)};
  }
  return best;
}

// The element of largest magnitude, with its sign.
float SignedAbsMax(const float* x, int n) {
  float v = 0;
  for (int i = 0; i < n; ++i) {
    if (std::fabs(x[i]) > std::fabs(v)) v = x[i];
  }
  return v;
}

// x ≈ s·level with each element's level from `nearest`: the weighted least-squares s over the
// roundings of scales that put the largest element within ±20 % of either end level.
template <typename NearestLevel>
float FitScale(const float* x, const float* w, int n, float low_end, float high_end,
               const NearestLevel& nearest) {
  const float v = SignedAbsMax(x, n);
  if (v == 0) return 0.0f;
  float best = 0.0f;
  double best_gain = 0;  // the error is Σw·x² − (Σw·x·l)²/Σw·l²: maximise the second term
  for (const float end : {low_end, high_end}) {
    for (int k = -kSteps; k <= kSteps; ++k) {
      const float iscale = end * (1.0f + 0.02f * static_cast<float>(k)) / v;
      double sxl = 0, sll = 0;
      for (int i = 0; i < n; ++i) {
        const float l = nearest(iscale * x[i]);
        sxl += w[i] * x[i] * l, sll += w[i] * l * l;
      }
      if (!(sll > 0)) continue;
      const double gain = sxl * sxl / sll;
      if (gain > best_gain) best_gain = gain, best = static_cast<float>(sxl / sll);
    }
  }
  return best;
}

float FitIntegerScale(const float* x, const float* w, int n, int nmin, int nmax) {
  return FitScale(x, w, n, static_cast<float>(nmin), static_cast<float>(nmax),
                  [nmin, nmax](float t) { return static_cast<float>(RoundClamp(t, nmin, nmax)); });
}

int NearestIq4(float t) {
  const int8_t* up = std::lower_bound(std::begin(kIq4Levels), std::end(kIq4Levels), t);
  if (up == std::begin(kIq4Levels)) return 0;
  if (up == std::end(kIq4Levels)) return 15;
  const int i = static_cast<int>(up - std::begin(kIq4Levels));
  return t - kIq4Levels[i - 1] <= kIq4Levels[i] - t ? i - 1 : i;
}

float FitIq4Scale(const float* x, const float* w, int n) {
  return FitScale(x, w, n, kIq4Levels[0], kIq4Levels[15],
                  [](float t) { return static_cast<float>(kIq4Levels[NearestIq4(t)]); });
}

// Sub-block scales (and minimums) of a super-block stored as integers 0…top under one f16
// multiplier: the multiplier as the dequantizer reads it, and the integers.
float QuantizeScales(const float* s, int n, int top, uint8_t* stored, int* codes) {
  const float max = *std::max_element(s, s + n);
  const float d = max > 0 ? max / static_cast<float>(top) : 0.0f;
  StoreHalf(stored, d);
  const float df = AsHalf(d);
  for (int j = 0; j < n; ++j) codes[j] = df > 0 ? RoundClamp(s[j] / df, 0, top) : 0;
  return df;
}

// Signed sub-block scales stored as integers in [lo, hi] under one f16 multiplier that maps the
// scale of largest magnitude to lo.
float QuantizeSignedScales(const float* s, int n, int lo, int hi, uint8_t* stored, int* codes) {
  const float v = SignedAbsMax(s, n);
  const float d = v / static_cast<float>(lo);
  StoreHalf(stored, d);
  const float df = AsHalf(d);
  for (int j = 0; j < n; ++j) codes[j] = df != 0 ? RoundClamp(s[j] / df, lo, hi) : 0;
  return df;
}

// The 16 sub-blocks of 16 elements of a super-block fitted to the integer levels nmin…nmax, and
// their scales stored as integers in [lo, hi] under one f16 multiplier (at `stored`): returns
// the multiplier as read back, the integers in `codes`.
float FitSubBlockScales(const float* x, const float* imp, int nmin, int nmax, int lo, int hi, uint8_t* stored,
                        int* codes) {
  float w[16], s[16];
  for (int j = 0; j < 16; ++j) {
    Weights(x + 16 * j, imp ? imp + 16 * j : nullptr, 16, w);
    s[j] = FitIntegerScale(x + 16 * j, w, 16, nmin, nmax);
  }
  return QuantizeSignedScales(s, 16, lo, hi, stored, codes);
}

// A group's weighted error with value = step·q − offset, each q in [0, nmax] rounded to nearest.
double AffineError(const float* x, const float* w, int n, int nmax, float step, float offset) {
  double e = 0;
  for (int i = 0; i < n; ++i) {
    const int q = step > 0 ? RoundClamp((x[i] + offset) / step, 0, nmax) : 0;
    const double d = static_cast<double>(step) * q - offset - x[i];
    e += w[i] * d * d;
  }
  return e;
}

// The rounded scale and minimum codes of a group (under multipliers d and dmin) moved by ±1
// where that lowers the group's error: rounding each code alone is not the best pair.
void RefineAffineCodes(const float* x, const float* w, int n, int nmax, float d, float dmin,
                       int top, int* sc, int* mc) {
  const int sc0 = *sc, mc0 = *mc;
  double best = AffineError(x, w, n, nmax, d * static_cast<float>(sc0), dmin * static_cast<float>(mc0));
  for (int a = std::max(0, sc0 - 1); a <= std::min(top, sc0 + 1); ++a) {
    for (int b = std::max(0, mc0 - 1); b <= std::min(top, mc0 + 1); ++b) {
      const double e = AffineError(x, w, n, nmax, d * static_cast<float>(a), dmin * static_cast<float>(b));
      if (e < best) best = e, *sc = a, *mc = b;
    }
  }
}

// q4_K (nmax 15) and q5_K (nmax 31): {f16 d; f16 dmin; u8 scales[12]; [u8 qh[32];] u8 qs[128]}.
void QuantizeQ45K(const float* x, const float* imp, int nmax, uint8_t* b) {
  float w[32], s[8], m[8];
  for (int j = 0; j < 8; ++j) {
    Weights(x + 32 * j, imp ? imp + 32 * j : nullptr, 32, w);
    const Affine f = FitAffine(x + 32 * j, w, 32, nmax, true);
    s[j] = f.s, m[j] = -f.b;
  }
  int sc[8], mc[8];
  const float d = QuantizeScales(s, 8, 63, b, sc), dmin = QuantizeScales(m, 8, 63, b + 2, mc);
  for (int j = 0; j < 8; ++j) {
    Weights(x + 32 * j, imp ? imp + 32 * j : nullptr, 32, w);
    RefineAffineCodes(x + 32 * j, w, 32, nmax, d, dmin, 63, &sc[j], &mc[j]);
  }
  uint8_t* scales = b + 4;
  std::memset(scales, 0, 12);
  for (int j = 0; j < 4; ++j) {
    scales[j] = static_cast<uint8_t>(sc[j] | ((sc[j + 4] >> 4) << 6));
    scales[j + 4] = static_cast<uint8_t>(mc[j] | ((mc[j + 4] >> 4) << 6));
    scales[j + 8] = static_cast<uint8_t>((sc[j + 4] & 0xF) | ((mc[j + 4] & 0xF) << 4));
  }
  uint8_t* qh = b + 16;
  uint8_t* qs = nmax == 15 ? b + 16 : b + 48;
  if (nmax == 31) std::memset(qh, 0, 32);
  std::memset(qs, 0, 128);
  for (int j = 0; j < 8; ++j) {
    const float step = d * static_cast<float>(sc[j]), offset = dmin * static_cast<float>(mc[j]);
    for (int l = 0; l < 32; ++l) {
      const int q = step > 0 ? RoundClamp((x[32 * j + l] + offset) / step, 0, nmax) : 0;
      qs[32 * (j / 2) + l] |= static_cast<uint8_t>((q & 0xF) << (4 * (j % 2)));
      if (nmax == 31) qh[l] |= static_cast<uint8_t>(((q >> 4) & 1) << j);
    }
  }
}

// {u8 ql[128]; u8 qh[64]; int8 scales[16]; f16 d}
void QuantizeQ6K(const float* x, const float* imp, uint8_t* b) {
  int sc[16];
  const float d = FitSubBlockScales(x, imp, -32, 31, -128, 127, b + 208, sc);
  uint8_t* ql = b;
  uint8_t* qh = b + 128;
  std::memset(b, 0, 192);
  for (int j = 0; j < 16; ++j) b[192 + j] = static_cast<uint8_t>(static_cast<int8_t>(sc[j]));
  for (int i = 0; i < kSuper; ++i) {
    const float step = d * static_cast<float>(sc[i / 16]);
    const int q = (step != 0 ? RoundClamp(x[i] / step, -32, 31) : 0) + 32;
    const int half = i / 128, k = (i % 128) / 32, l = i % 32;
    ql[64 * half + 32 * (k % 2) + l] |= static_cast<uint8_t>((q & 0xF) << (4 * (k / 2)));
    qh[32 * half + l] |= static_cast<uint8_t>((q >> 4) << (2 * k));
  }
}

// {u8 hmask[32]; u8 qs[64]; u8 scales[12]; f16 d}
void QuantizeQ3K(const float* x, const float* imp, uint8_t* b) {
  int sc[16];
  const float d = FitSubBlockScales(x, imp, -4, 3, -32, 31, b + 108, sc);
  uint8_t* hmask = b;
  uint8_t* qs = b + 32;
  uint8_t* scales = b + 96;
  std::memset(b, 0, 108);
  for (int g = 0; g < 16; ++g) {
    const int u = sc[g] + 32;
    scales[g % 8] |= static_cast<uint8_t>((u & 0xF) << (4 * (g / 8)));
    scales[8 + g % 4] |= static_cast<uint8_t>((u >> 4) << (2 * (g / 4)));
  }
  for (int i = 0; i < kSuper; ++i) {
    const float step = d * static_cast<float>(sc[i / 16]);
    const int u = (step != 0 ? RoundClamp(x[i] / step, -4, 3) : 0) + 4;
    const int half = i / 128, k = i % 128;
    qs[half * 32 + k % 32] |= static_cast<uint8_t>((u & 3) << (2 * (k / 32)));
    hmask[i % 32] |= static_cast<uint8_t>((u >> 2) << (i / 32));
  }
}

// {u8 scales[16]; u8 qs[64]; f16 d; f16 dmin}
void QuantizeQ2K(const float* x, const float* imp, uint8_t* b) {
  float w[16], s[16], m[16];
  for (int j = 0; j < 16; ++j) {
    Weights(x + 16 * j, imp ? imp + 16 * j : nullptr, 16, w);
    const Affine f = FitAffine(x + 16 * j, w, 16, 3, true);
    s[j] = f.s, m[j] = -f.b;
  }
  int sc[16], mc[16];
  const float d = QuantizeScales(s, 16, 15, b + 80, sc), dmin = QuantizeScales(m, 16, 15, b + 82, mc);
  for (int j = 0; j < 16; ++j) {
    Weights(x + 16 * j, imp ? imp + 16 * j : nullptr, 16, w);
    RefineAffineCodes(x + 16 * j, w, 16, 3, d, dmin, 15, &sc[j], &mc[j]);
  }
  uint8_t* qs = b + 16;
  std::memset(qs, 0, 64);
  for (int g = 0; g < 16; ++g) b[g] = static_cast<uint8_t>(sc[g] | (mc[g] << 4));
  for (int i = 0; i < kSuper; ++i) {
    const float step = d * static_cast<float>(sc[i / 16]);
    const float offset = dmin * static_cast<float>(mc[i / 16]);
    const int q = step > 0 ? RoundClamp((x[i] + offset) / step, 0, 3) : 0;
    const int half = i / 128, k = i % 128;
    qs[half * 32 + k % 32] |= static_cast<uint8_t>(q << (2 * (k / 32)));
  }
}

// 32 elements as iq4 codes under `step` into 16 bytes: element l in the low nibble of out[l],
// element l + 16 in the high nibble.
void PackIq4(const float* x, float step, uint8_t* out) {
  for (int l = 0; l < 16; ++l) {
    const int lo = step != 0 ? NearestIq4(x[l] / step) : NearestIq4(0);
    const int hi = step != 0 ? NearestIq4(x[l + 16] / step) : NearestIq4(0);
    out[l] = static_cast<uint8_t>(lo | (hi << 4));
  }
}

// {f16 d; u8 qs[16]}
void QuantizeIq4Nl(const float* x, const float* imp, uint8_t* b) {
  float w[32];
  Weights(x, imp, 32, w);
  StoreHalf(b, FitIq4Scale(x, w, 32));
  PackIq4(x, F16ToF32(LoadU16(b)), b + 2);
}

// {f16 d; u16 scales_h; u8 scales_l[4]; u8 qs[128]}
void QuantizeIq4Xs(const float* x, const float* imp, uint8_t* b) {
  float w[32], s[8];
  for (int j = 0; j < 8; ++j) {
    Weights(x + 32 * j, imp ? imp + 32 * j : nullptr, 32, w);
    s[j] = FitIq4Scale(x + 32 * j, w, 32);
  }
  int sc[8];
  const float d = QuantizeSignedScales(s, 8, -32, 31, b, sc);
  uint16_t scales_h = 0;
  std::memset(b + 4, 0, 4);
  for (int j = 0; j < 8; ++j) {
    const int u = sc[j] + 32;
    b[4 + j / 2] |= static_cast<uint8_t>((u & 0xF) << (4 * (j % 2)));
    scales_h = static_cast<uint16_t>(scales_h | ((u >> 4) << (2 * j)));
    PackIq4(x + 32 * j, d * static_cast<float>(sc[j]), b + 8 + 16 * j);
  }
  std::memcpy(b + 2, &scales_h, 2);
}

// {f16 d; f16 m; u8 qh[4]; u8 qs[16]}: value = q·d + m.
void QuantizeQ5_1(const float* x, const float* imp, uint8_t* b) {
  float w[32];
  Weights(x, imp, 32, w);
  const Affine f = FitAffine(x, w, 32, 31, false);
  StoreHalf(b, f.s);
  StoreHalf(b + 2, f.b);
  const float d = AsHalf(f.s), m = AsHalf(f.b);
  uint32_t qh = 0;
  for (int l = 0; l < 16; ++l) {
    const int lo = d > 0 ? RoundClamp((x[l] - m) / d, 0, 31) : 0;
    const int hi = d > 0 ? RoundClamp((x[l + 16] - m) / d, 0, 31) : 0;
    b[8 + l] = static_cast<uint8_t>((lo & 0xF) | ((hi & 0xF) << 4));
    qh |= static_cast<uint32_t>(lo >> 4) << l;
    qh |= static_cast<uint32_t>(hi >> 4) << (l + 16);
  }
  std::memcpy(b + 4, &qh, 4);
}

using BlockQuantizer = void (*)(const float*, const float*, uint8_t*);

BlockQuantizer Find(uint32_t ggml_type) {
  switch (ggml_type) {
    case kGgmlQ2_K: return QuantizeQ2K;
    case kGgmlQ3_K: return QuantizeQ3K;
    case kGgmlQ4_K: return [](const float* x, const float* imp, uint8_t* b) { QuantizeQ45K(x, imp, 15, b); };
    case kGgmlQ5_K: return [](const float* x, const float* imp, uint8_t* b) { QuantizeQ45K(x, imp, 31, b); };
    case kGgmlQ6_K: return QuantizeQ6K;
    case kGgmlIq4Nl: return QuantizeIq4Nl;
    case kGgmlIq4Xs: return QuantizeIq4Xs;
    case kGgmlQ5_1: return QuantizeQ5_1;
    default: return nullptr;
  }
}

}  // namespace

bool GgmlQuantizable(uint32_t ggml_type) { return Find(ggml_type) != nullptr; }

void QuantizeGgmlRow(uint32_t ggml_type, const float* x, int64_t cols, const float* importance,
                     uint8_t* out) {
  const BlockQuantizer quantize = Find(ggml_type);
  const std::optional<GgmlBlock> block = GgmlDequantBlock(ggml_type);
  ANSER_CHECK(quantize != nullptr && block && cols % block->elems == 0,
              "QuantizeGgmlRow: not a type it writes, or cols not a multiple of its block");
  for (int64_t i = 0; i < cols / block->elems; ++i) {
    quantize(x + i * block->elems, importance ? importance + i * block->elems : nullptr,
             out + static_cast<size_t>(i) * block->bytes);
  }
}

}  // namespace anser
