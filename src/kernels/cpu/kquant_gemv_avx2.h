// The super-block products (q2_K … q6_K, iq4_xs) for any number of tokens, written once over a
// table's tile registers W and 8-bit dot product (Dot<D> of quant_gemv_avx2.h: AVX2's maddubs or
// VNNI's dpbusd). The activations are quantized to 8 bits per 32-block as for the other block types
// (QuantizedActs), and each 32-element sub-block of a super-block meets the matching activation
// block; the integer dots are exact.
// - In the table's tile layout (tiles.h), a group of 8 or 16 rows goes at once, one lane per row
//   (DotQ45KTile, DotK16Tile, DotIq4XsTile): what `pack` gives every matrix the models multiply
//   by.
// - As stored (the rows past the last group, matrices no table packed), a row at a time, one
//   accumulator per token over the lanes of the sub-blocks' dots (DotQ45KRows, DotK16Rows,
//   DotIq4XsRows):
//     q4_K, q5_K: acc += float(Σq·xq)·(d·sc·x.d), mins += (dmin·m)·x.s; y = Hsum(acc) − Hsum(mins)
//     q6_K, q3_K: acc += float(Σ q·xq·scale, lane-wise)·(d·x.d);       y = Hsum(acc)
//     q2_K: the same, less its mins (dmin·m) times the 16-element groups' sums
//     iq4_xs: acc += float(Σ level·xq)·(d·(ls − 32)·x.d);            y = Hsum(acc)
//   q4_K's and q5_K's quants are unsigned (Dot<kQ4_0>'s and Dot<kQ5_0>'s blocks); q6_K's q − 32
//   and q3_K's q signed (Dot<kQ8_0>'s), the 8 int32 lanes of their dot split 4 + 4 between the
//   sub-block's two 16-element scale groups (K16Scales: q2_K's too).
//
// Batch invariance (kernels.h): every token's output for a row is summed in one order whether it
// is computed alone or with up to seven others (the kN of each kernel), on any thread.
//
// In an unnamed namespace, as every header of ISA-compiled helpers here.
#pragma once

#include <immintrin.h>

#include <algorithm>
#include <vector>

#include "core/thread_pool.h"
#include "kernels/cpu/matvec_split.h"
#include "kernels/cpu/quant_avx2.h"
#include "kernels/cpu/simd_avx2.h"
#include "kernels/cpu/tiles.h"
#include "kernels/kernels.h"

namespace anser {
namespace {

inline constexpr int kPiecesPerK = kKBlock / kQBlock;  // 32-element pieces of a super-block

// Prefetches the stream ahead of one super-block (or tile column) of `bytes` bytes, once per
// 64-byte line.
inline void PrefetchAhead(const uint8_t* blk, size_t bytes) {
  for (size_t off = 0; off < bytes; off += 64)
    _mm_prefetch(reinterpret_cast<const char*>(blk + kStreamPrefetchBytes + off), _MM_HINT_T0);
}

// One token's activation scales by 32-block, contiguous, so that a super-block's eight load as
// one register: d and s = d·Σq of each QuantizedActs block.
struct ActScales {
  const float* d;
  const float* s;
  const int32_t* low_sum;   // Σq of each block's first 16 elements (the 16-element scales' types)
  const int32_t* high_sum;  // Σq of its last 16
};

// The eight 6-bit scales and mins of a q4_K or q5_K super-block (KScaleMin) as floats times d and
// dmin:
// sub-blocks 0..3 in the low 6 bits of bytes 0..3 (scales) and 4..7 (mins); 4..7 in the nibbles
// of bytes 8..11, their top 2 bits in the top bits of bytes 0..3 and 4..7.
inline void Q4KScales(const uint8_t* s, float d, float dmin, __m256* dsc, __m256* dm) {
  const uint32_t a = LoadU32(s), b = LoadU32(s + 4), c = LoadU32(s + 8);
  const uint64_t scales =
      (a & 0x3f3f3f3fu) | static_cast<uint64_t>((c & 0x0f0f0f0fu) | ((a >> 2) & 0x30303030u)) << 32;
  const uint64_t mins =
      (b & 0x3f3f3f3fu) | static_cast<uint64_t>(((c >> 4) & 0x0f0f0f0fu) | ((b >> 2) & 0x30303030u))
                              << 32;
  auto floats = [](uint64_t bytes) {
    return _mm256_cvtepi32_ps(
        _mm256_cvtepu8_epi32(_mm_cvtsi64_si128(static_cast<long long>(bytes))));
  };
  *dsc = _mm256_mul_ps(_mm256_set1_ps(d), floats(scales));
  *dm = _mm256_mul_ps(_mm256_set1_ps(dmin), floats(mins));
}

// Lane j of v in every lane.
inline __m256 Lane(__m256 v, int j) { return _mm256_permutevar8x32_ps(v, _mm256_set1_epi32(j)); }

// Bit j (0…7) of each byte of v moved to bit `to` (4: q5_K's and q5_0's fifth quant bit; 2:
// q3_K's third), the other bits cleared (16-bit shifts left by at most 4 or right by at most 5
// bring no bit of the other byte into bit 2 or 4).
template <class W>
inline typename W::I HighBit(typename W::I v, int j, int to = 4) {
  return W::And(W::Shift16(v, to - j), W::Bytes(static_cast<int8_t>(1 << to)));
}

// Row · x_t of kN tokens for a q4_K or q5_K (D) row of `supers` super-blocks; y[t·y_stride].
// Two accumulators (even and odd sub-blocks) per token, so the multiply-adds do not wait on one
// another; the mins meet the activations' block sums eight at a time.
template <template <DType> class Dot, DType D, int kN>
void DotQ45KRows(const uint8_t* row, const QuantizedActs* qx, const ActScales* xs, int64_t supers,
                 float* y, int64_t y_stride) {
  constexpr bool kFifthBit = D == DType::kQ5_K;
  constexpr size_t kBytes = kFifthBit ? kQ5_KBytes : kQ4_KBytes;
  constexpr int kQs = kFifthBit ? kQ5_KQs : kQ4_KQs;
  using Block = typename Dot<kFifthBit ? DType::kQ5_0 : DType::kQ4_0>::Block;
  const __m256i low = _mm256_set1_epi8(0x0f);
  __m256 acc[kN][2], mins[kN];
  for (int t = 0; t < kN; ++t) acc[t][0] = acc[t][1] = mins[t] = _mm256_setzero_ps();
  for (int64_t s = 0; s < supers; ++s) {
    const uint8_t* blk = row + static_cast<size_t>(s) * kBytes;
    PrefetchAhead(blk, kBytes);
    __m256 dsc, dm;
    Q4KScales(blk + kQ4_KScales, _cvtsh_ss(LoadU16(blk)), _cvtsh_ss(LoadU16(blk + kQ4_KDmin)), &dsc,
              &dm);
    const size_t x0 = static_cast<size_t>(s * kPiecesPerK);
    __m256 f[kN];  // lane j: d·sc_j·x.d of sub-block j
    for (int t = 0; t < kN; ++t) {
      f[t] = _mm256_mul_ps(dsc, _mm256_loadu_ps(xs[t].d + x0));
      mins[t] = _mm256_fmadd_ps(dm, _mm256_loadu_ps(xs[t].s + x0), mins[t]);
    }
    // q5_K: bit j of byte l is bit 4 of element l of sub-block j.
    const __m256i qh =
        kFifthBit ? _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk + kQ5_KQh))
                  : _mm256_setzero_si256();
    for (int p = 0; p < kPiecesPerK / 2; ++p) {
      // One 32-byte load holds two pieces: low nibbles piece 2p, high nibbles piece 2p + 1.
      const __m256i bytes =
          _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk + kQs + 32 * p));
      __m256i quants[2] = {_mm256_and_si256(bytes, low),
                           _mm256_and_si256(_mm256_srli_epi16(bytes, 4), low)};
      if constexpr (kFifthBit) {
        for (int h = 0; h < 2; ++h)
          quants[h] = _mm256_or_si256(quants[h], HighBit<Avx2Tiles>(qh, 2 * p + h));
      }
      const Block pieces[2] = {Block(quants[0]), Block(quants[1])};
      for (int h = 0; h < 2; ++h) {
        for (int t = 0; t < kN; ++t) {
          const __m256 dot = _mm256_cvtepi32_ps(pieces[h].Dot(qx[t].blocks[x0 + 2 * p + h]));
          acc[t][h] = _mm256_fmadd_ps(dot, Lane(f[t], 2 * p + h), acc[t][h]);
        }
      }
    }
  }
  for (int t = 0; t < kN; ++t)
    y[t * y_stride] = Hsum(_mm256_add_ps(acc[t][0], acc[t][1])) - Hsum(mins[t]);
}

// d·(ls_j − 32) of the eight sub-blocks j of an iq4_xs super-block (Iq4XsScale).
inline __m256 Iq4XsScales(const uint8_t* blk) {
  alignas(32) int32_t ls[8];
  for (int j = 0; j < 8; ++j) ls[j] = Iq4XsScale(blk, j) - 32;
  return _mm256_mul_ps(_mm256_set1_ps(_cvtsh_ss(LoadU16(blk))),
                       _mm256_cvtepi32_ps(_mm256_load_si256(reinterpret_cast<const __m256i*>(ls))));
}

// Row · x_t of kN tokens for an iq4_xs row of `supers` super-blocks; y[t·y_stride]. Each
// sub-block is an iq4_nl block of signed levels (Dot<kIQ4_NL>'s); two accumulators per token, as
// for q4_K.
template <template <DType> class Dot, int kN>
void DotIq4XsRows(const uint8_t* row, const QuantizedActs* qx, const ActScales* xs, int64_t supers,
                  float* y, int64_t y_stride) {
  using Block = typename Dot<DType::kIQ4_NL>::Block;
  const __m256i table = Iq4LevelTable();
  __m256 acc[kN][2];
  for (int t = 0; t < kN; ++t) acc[t][0] = acc[t][1] = _mm256_setzero_ps();
  for (int64_t s = 0; s < supers; ++s) {
    const uint8_t* blk = row + static_cast<size_t>(s) * kIQ4_XSBytes;
    PrefetchAhead(blk, kIQ4_XSBytes);
    const __m256 scales = Iq4XsScales(blk);
    const size_t x0 = static_cast<size_t>(s * kPiecesPerK);
    __m256 f[kN];  // lane j: d·(ls_j − 32)·x.d of sub-block j
    for (int t = 0; t < kN; ++t) f[t] = _mm256_mul_ps(scales, _mm256_loadu_ps(xs[t].d + x0));
    for (int j = 0; j < kPiecesPerK; ++j) {
      const Block piece(_mm256_shuffle_epi8(table, Nibbles(blk + kIQ4_XSQs + 16 * j)));
      for (int t = 0; t < kN; ++t) {
        const __m256 dot = _mm256_cvtepi32_ps(piece.Dot(qx[t].blocks[x0 + j]));
        acc[t][j % 2] = _mm256_fmadd_ps(dot, Lane(f[t], j), acc[t][j % 2]);
      }
    }
  }
  for (int t = 0; t < kN; ++t) y[t * y_stride] = Hsum(_mm256_add_ps(acc[t][0], acc[t][1]));
}

// Where a q6_K, q3_K or q2_K super-block's f16 d lies, and its bytes.
constexpr int K16ScaleD(DType d) {
  return d == DType::kQ6_K ? kQ6_KD : d == DType::kQ3_K ? kQ3_KD : kQ2_KD;
}
constexpr size_t K16Bytes(DType d) {
  return d == DType::kQ6_K ? kQ6_KBytes : d == DType::kQ3_K ? kQ3_KBytes : kQ2_KBytes;
}

// The scales of the 16 groups of a q6_K, q3_K or q2_K super-block as int8s (q3_K's less 32,
// q2_K's without the mins).
template <DType D>
inline __m128i K16GroupScales(const uint8_t* blk) {
  if constexpr (D == DType::kQ6_K) {
    return _mm_loadu_si128(reinterpret_cast<const __m128i*>(blk + kQ6_KScales));
  } else if constexpr (D == DType::kQ2_K) {
    return _mm_and_si128(_mm_loadu_si128(reinterpret_cast<const __m128i*>(blk + kQ2_KScales)),
                         _mm_set1_epi8(0x0f));
  } else {
    alignas(16) int8_t sc[16];
    for (int g = 0; g < 16; ++g) sc[g] = static_cast<int8_t>(Q3KScale(blk + kQ3_KScales, g) - 32);
    return _mm_load_si128(reinterpret_cast<const __m128i*>(sc));
  }
}

// The four 32-element pieces of 128-half h of a q6_K, q3_K or q2_K super-block, in element order:
// q6_K's q − 32 and q3_K's q (signed), q2_K's q (0…3). 16-bit shifts of at most 6 bring no bit of
// the other byte into the bits kept.
template <DType D>
inline void K16Pieces(const uint8_t* blk, int h, __m256i* pieces) {
  const __m256i three = _mm256_set1_epi8(3);
  if constexpr (D == DType::kQ6_K) {
    const __m256i low = _mm256_set1_epi8(0x0f), high = _mm256_set1_epi8(0x30);
    const uint8_t* ql = blk + kQ6_KQl + 64 * h;
    const __m256i ql0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(ql));
    const __m256i ql1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(ql + 32));
    const __m256i qh = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk + kQ6_KQh + 32 * h));
    // Bits 0..3 of piece k: low nibbles of ql0 (k 0), ql1 (k 1), high nibbles (k 2, 3);
    // bits 4, 5: bits 2k, 2k + 1 of qh, shifted into place.
    const __m256i nibbles[4] = {_mm256_and_si256(ql0, low), _mm256_and_si256(ql1, low),
                                _mm256_and_si256(_mm256_srli_epi16(ql0, 4), low),
                                _mm256_and_si256(_mm256_srli_epi16(ql1, 4), low)};
    const __m256i tops[4] = {_mm256_and_si256(_mm256_slli_epi16(qh, 4), high),
                             _mm256_and_si256(_mm256_slli_epi16(qh, 2), high),
                             _mm256_and_si256(qh, high),
                             _mm256_and_si256(_mm256_srli_epi16(qh, 2), high)};
    for (int k = 0; k < 4; ++k)
      pieces[k] = _mm256_sub_epi8(_mm256_or_si256(nibbles[k], tops[k]), _mm256_set1_epi8(32));
  } else {
    constexpr int kQs = D == DType::kQ3_K ? kQ3_KQs : kQ2_KQs;
    const __m256i qs = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk + kQs + 32 * h));
    for (int k = 0; k < 4; ++k) pieces[k] = _mm256_and_si256(Avx2Tiles::Shift16(qs, -2 * k), three);
    if constexpr (D == DType::kQ3_K) {
      // Bit 4h + k of hmask[l] is the high bit of element l of piece k; clear, it subtracts 4.
      const __m256i hmask = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk + kQ3_KHmask));
      for (int k = 0; k < 4; ++k) {
        pieces[k] =
            _mm256_sub_epi8(_mm256_or_si256(pieces[k], HighBit<Avx2Tiles>(hmask, 4 * h + k, 2)),
                            _mm256_set1_epi8(4));
      }
    }
  }
}

// Row · x_t of kN tokens for a q6_K, q3_K or q2_K (D) row of `supers` super-blocks; y[t·y_stride].
// The 8 int32 lanes of a piece's dot split 4 + 4 between its two 16-element groups, each times
// its group's scale; two accumulators per token, as for q4_K. q2_K's mins meet the activations'
// 16-element sums:
//   acc += float(Σ q·xq·scale, lane-wise)·(d·x.d);  mins += float(Σ m·Σxq)·(dmin·x.d)
//   y = Hsum(acc) − Hsum(mins)
template <template <DType> class Dot, DType D, int kN>
void DotK16Rows(const uint8_t* row, const QuantizedActs* qx, const ActScales* xs, int64_t supers,
                float* y, int64_t y_stride) {
  constexpr bool kMins = D == DType::kQ2_K;
  constexpr size_t bytes = K16Bytes(D);
  using Block = typename Dot<kMins ? DType::kQ4_0 : DType::kQ8_0>::Block;
  __m256 acc[kN][2], mins[kN];
  for (int t = 0; t < kN; ++t) acc[t][0] = acc[t][1] = mins[t] = _mm256_setzero_ps();
  for (int64_t s = 0; s < supers; ++s) {
    const uint8_t* blk = row + static_cast<size_t>(s) * bytes;
    PrefetchAhead(blk, bytes);
    const __m256 d = _mm256_set1_ps(_cvtsh_ss(LoadU16(blk + K16ScaleD(D))));
    const size_t x0 = static_cast<size_t>(s * kPiecesPerK);
    __m256 f[kN];  // lane j: d·x.d of piece j
    for (int t = 0; t < kN; ++t) f[t] = _mm256_mul_ps(d, _mm256_loadu_ps(xs[t].d + x0));
    if constexpr (kMins) {
      // Lane j: the mins of piece j's two groups (even and odd bytes' high nibbles).
      const __m128i m = _mm_and_si128(
          _mm_srli_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(blk + kQ2_KScales)), 4),
          _mm_set1_epi8(0x0f));
      const __m128i order = _mm_setr_epi8(0, 2, 4, 6, 8, 10, 12, 14, 1, 3, 5, 7, 9, 11, 13, 15);
      const __m128i split = _mm_shuffle_epi8(m, order);
      const __m256i m_low = _mm256_cvtepu8_epi32(split);
      const __m256i m_high = _mm256_cvtepu8_epi32(_mm_srli_si128(split, 8));
      const __m256 dmin = _mm256_set1_ps(_cvtsh_ss(LoadU16(blk + kQ2_KDmin)));
      for (int t = 0; t < kN; ++t) {
        const __m256i sums = _mm256_add_epi32(
            _mm256_mullo_epi32(
                m_low, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xs[t].low_sum + x0))),
            _mm256_mullo_epi32(
                m_high, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xs[t].high_sum + x0))));
        mins[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(sums),
                                  _mm256_mul_ps(dmin, _mm256_loadu_ps(xs[t].d + x0)), mins[t]);
      }
    }
    const __m128i group_scales = K16GroupScales<D>(blk);
    for (int half = 0; half < 2; ++half) {
      // The scales of this half's eight 16-element groups, one per int32 lane.
      const __m256i scales =
          _mm256_cvtepi8_epi32(half == 0 ? group_scales : _mm_srli_si128(group_scales, 8));
      __m256i pieces[4];
      K16Pieces<D>(blk, half, pieces);
      for (int k = 0; k < 4; ++k) {
        const Block piece(pieces[k]);
        // Lanes 0..3 are elements 0..15 (group 2k), lanes 4..7 elements 16..31 (group 2k + 1).
        const __m256i scale = _mm256_permutevar8x32_epi32(
            scales, _mm256_setr_epi32(2 * k, 2 * k, 2 * k, 2 * k, 2 * k + 1, 2 * k + 1, 2 * k + 1,
                                      2 * k + 1));
        const int j = 4 * half + k;
        for (int t = 0; t < kN; ++t) {
          const __m256i dot = _mm256_mullo_epi32(piece.Dot(qx[t].blocks[x0 + j]), scale);
          acc[t][k % 2] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(dot), Lane(f[t], j), acc[t][k % 2]);
        }
      }
    }
  }
  for (int t = 0; t < kN; ++t) {
    const float sum = Hsum(_mm256_add_ps(acc[t][0], acc[t][1]));
    y[t * y_stride] = kMins ? sum - Hsum(mins[t]) : sum;
  }
}

// The 4-bit quants of a tile block column for W::kRows rows (tiles.h: register k's bytes from
// q + 4·W::kGroupRows·k): qt[k] the low nibbles (elements 4k…4k+3), qt[k + 4] the high ones.
template <class W>
inline void UnpackNibbles(const uint8_t* q, typename W::I* qt) {
  constexpr size_t kRegisterBytes = 4 * W::kGroupRows;
  const typename W::I low = W::Bytes(0x0f);
  for (int k = 0; k < 4; ++k) {
    const typename W::I nibbles = W::Load(q + kRegisterBytes * k);
    qt[k] = W::And(nibbles, low);
    qt[k + 4] = W::And(W::Shift16(nibbles, -4), low);
  }
}

// The eight registers' 4-bit codes turned into iq4_nl's levels (signed bytes).
template <class W>
inline void LookUpIq4Levels(typename W::I* qt) {
  const typename W::I table = W::Table16(kIq4Levels);
  for (int k = 0; k < 8; ++k) qt[k] = W::Lookup(table, qt[k]);
}

// Bit `to` of the eight registers' quants from the tile high-bit bytes at `bits` (q5_0, q5_K:
// bit 4; q3_K: bit 2; bit k of each byte belongs to register k).
template <class W>
inline void OrHighBits(const uint8_t* bits, typename W::I* qt, int to = 4) {
  const typename W::I loaded = W::Load(bits);
  for (int k = 0; k < 8; ++k) qt[k] = W::Or(qt[k], HighBit<W>(loaded, k, to));
}

// The two bits at bits 2(k − 4m), +1 of the tile 2-bit plane m at `planes` (tiles.h: register m's
// bytes from planes + 4·W::kGroupRows·m) for each register k, moved to bits `to`, `to` + 1 (0:
// q2_K's and q3_K's low bits, 4: q6_K's bits 4, 5), the other bits cleared (16-bit shifts of at
// most 6 bring no bit of the other byte into them).
template <class W>
inline void TwoBitPlanes(const uint8_t* planes, int to, typename W::I* bits) {
  for (int m = 0; m < 2; ++m) {
    const typename W::I plane = W::Load(planes + 4 * W::kGroupRows * m);
    for (int k = 4 * m; k < 4 * m + 4; ++k) {
      bits[k] =
          W::And(W::Shift16(plane, to - 2 * (k - 4 * m)), W::Bytes(static_cast<int8_t>(3 << to)));
    }
  }
}

// The 6-bit scale g of W::kRows rows from tile scale bytes packed as PackSixBitScales does for
// kCount scales (tiles.h: iq4_xs, q3_K), `scales` already at the rows' lane offset.
template <class W, int kCount>
inline typename W::I SixBitScale(const uint8_t* scales, int g) {
  constexpr int kHalf = kCount / 2;
  constexpr int kR = W::kGroupRows;
  const typename W::I packed = W::ByteInts(scales + (g % kHalf) * kR);
  if (g < kHalf) return W::And(packed, W::Ints(63));
  const typename W::I high = W::And(
      W::Shift32(W::ByteInts(scales + (kHalf + (g - kHalf) / 2) * kR), -4 * (g % 2)), W::Ints(15));
  return W::Or(W::Shift32(packed, -6), W::Shift32(high, 2));
}

// y[t·y_stride + r] = row r · x_t for the W::kGroupRows rows of one q4_K or q5_K (D) tile group
// (tiles.h) and kN ≥ 1 tokens, one lane per row: per sub-block j the integer dot, then
//   acc += float(idot)·((d·sc_j)·x.d),  mins += (dmin·m_j)·x.s;   y = acc − mins
// each lane the same arithmetic whatever the register width.
template <class W, template <DType> class Dot, DType D, int kN>
void DotQ45KTile(const uint8_t* group, const QuantizedActs* qx, int64_t supers, float* y,
                 int64_t y_stride) {
  using I = typename W::I;
  using F = typename W::F;
  constexpr int kR = W::kGroupRows;
  constexpr int kParts = kR / W::kRows;
  constexpr bool kFifthBit = D == DType::kQ5_K;
  constexpr size_t kColumnBytes = kR * (kFifthBit ? kQ5_KBytes : kQ4_KBytes);
  using Tile = typename Dot<kFifthBit ? DType::kQ5_0 : DType::kQ4_0>::Tile;
  F acc[kParts][kN], mins[kParts][kN];
  for (int p = 0; p < kParts; ++p) {
    for (int t = 0; t < kN; ++t) acc[p][t] = mins[p][t] = W::Zero();
  }
  for (int64_t s = 0; s < supers; ++s) {
    const uint8_t* col = group + static_cast<size_t>(s) * kColumnBytes;
    PrefetchAhead(col, kColumnBytes);
    for (int p = 0; p < kParts; ++p) {
      const size_t lanes = static_cast<size_t>(W::kRows * p);
      const F d = W::Halves(col + 2 * lanes), dmin = W::Halves(col + 2 * kR + 2 * lanes);
      for (int j = 0; j < kPiecesPerK; ++j) {
        I qt[8];
        const uint8_t* quants = col + TileQ4KQuantsOffset(D, kR, j);
        UnpackNibbles<W>(quants + 4 * lanes, qt);
        if constexpr (kFifthBit) OrHighBits<W>(quants + 16 * kR + 4 * lanes, qt);
        const Tile tile(qt);
        const I packed = W::ByteInts(col + TileQ4KScalesOffset(kR) + j * kR + lanes);
        const F dsc = W::Mul(d, W::Float(W::And(packed, W::Ints(63))));
        const I high =
            W::And(W::Shift32(W::ByteInts(col + TileQ4KMinsOffset(kR) + (j / 2) * kR + lanes),
                              -4 * (j % 2)),
                   W::Ints(15));
        const F dm = W::Mul(dmin, W::Float(W::Or(W::Shift32(packed, -6), W::Shift32(high, 2))));
        const size_t xb = static_cast<size_t>(s * kPiecesPerK + j);
        for (int t = 0; t < kN; ++t) {
          const QuantizedActs::Block& x = qx[t].blocks[xb];
          acc[p][t] = W::Fma(W::Float(tile.Dot(x)), W::Mul(dsc, x.d), acc[p][t]);
          mins[p][t] = W::FmaScalar(dm, x.s, mins[p][t]);
        }
      }
    }
  }
  for (int p = 0; p < kParts; ++p) {
    for (int t = 0; t < kN; ++t)
      W::Store(y + t * y_stride + p * W::kRows, W::Sub(acc[p][t], mins[p][t]));
  }
}

// The loops of a super-block tile product whose rows each sum into one accumulator (q2_K, q3_K,
// q6_K, iq4_xs): the columns of kBlockBytes super-blocks in order, each prefetched, then per part p
// of the group (W::kRows rows from lane offset `lanes`, their f16 d) and sub-block j
//   sub_block(col, lanes, d, j, xb, acc[p])
// which adds the kN tokens' products of activation block xb to acc[p][0 … kN); y = acc.
template <class W, int kN, size_t kBlockBytes, class SubBlock>
void TileSuperBlocks(const uint8_t* group, int64_t supers, float* y, int64_t y_stride,
                     SubBlock&& sub_block) {
  using F = typename W::F;
  constexpr int kParts = W::kGroupRows / W::kRows;
  constexpr size_t kColumnBytes = W::kGroupRows * kBlockBytes;
  F acc[kParts][kN];
  for (int p = 0; p < kParts; ++p) {
    for (int t = 0; t < kN; ++t) acc[p][t] = W::Zero();
  }
  for (int64_t s = 0; s < supers; ++s) {
    const uint8_t* col = group + static_cast<size_t>(s) * kColumnBytes;
    PrefetchAhead(col, kColumnBytes);
    for (int p = 0; p < kParts; ++p) {
      const size_t lanes = static_cast<size_t>(W::kRows * p);
      const F d = W::Halves(col + 2 * lanes);
      for (int j = 0; j < kPiecesPerK; ++j)
        sub_block(col, lanes, d, j, static_cast<size_t>(s * kPiecesPerK + j), acc[p]);
    }
  }
  for (int p = 0; p < kParts; ++p) {
    for (int t = 0; t < kN; ++t) W::Store(y + t * y_stride + p * W::kRows, acc[p][t]);
  }
}

// The unsigned quants of sub-block j of one q6_K, q3_K or q2_K tile column for the rows from
// lane offset `lanes`, as Dot<D>::Tile takes them: q6_K's 0…63, q3_K's q + 4 (0…7), q2_K's 0…3.
template <class W, DType D>
inline void K16TileQuants(const uint8_t* col, size_t lanes, int j, typename W::I* qt) {
  constexpr int kR = W::kGroupRows;
  if constexpr (D == DType::kQ6_K) {
    const uint8_t* quants = col + TileQ6KQuantsOffset(kR, j) + 4 * lanes;
    UnpackNibbles<W>(quants, qt);
    typename W::I tops[8];
    TwoBitPlanes<W>(quants + 16 * kR, 4, tops);
    for (int k = 0; k < 8; ++k) qt[k] = W::Or(qt[k], tops[k]);
  } else {
    const uint8_t* quants = col + TileQ23KQuantsOffset(D, kR, j) + 4 * lanes;
    TwoBitPlanes<W>(quants, 0, qt);
    if constexpr (D == DType::kQ3_K) OrHighBits<W>(quants + 8 * kR, qt, 2);
  }
}

// The scales of groups 2j (low) and 2j + 1 (high) of one q6_K, q3_K or q2_K tile column for the
// rows from lane offset `lanes`: q6_K's int8, q3_K's sc − 32, q2_K's sc (without its mins).
template <class W, DType D>
inline void K16TileScales(const uint8_t* col, size_t lanes, int j, typename W::I* low,
                          typename W::I* high) {
  constexpr int kR = W::kGroupRows;
  if constexpr (D == DType::kQ6_K) {
    const uint8_t* scales = col + TileQ6KScalesOffset(kR) + 2 * j * kR + lanes;
    *low = W::SignedByteInts(scales), *high = W::SignedByteInts(scales + kR);
  } else if constexpr (D == DType::kQ3_K) {
    const uint8_t* scales = col + TileQ3KScalesOffset(kR) + lanes;
    *low = W::Sub(SixBitScale<W, 16>(scales, 2 * j), 32);
    *high = W::Sub(SixBitScale<W, 16>(scales, 2 * j + 1), 32);
  } else {
    const uint8_t* scales = col + TileQ2KScalesOffset(kR) + 2 * j * kR + lanes;
    *low = W::And(W::ByteInts(scales), W::Ints(15));
    *high = W::And(W::ByteInts(scales + kR), W::Ints(15));
  }
}

// The same for one q6_K, q3_K or q2_K tile group: per sub-block j the unsigned quants' dots over
// its two 16-element groups, each less the quants' offset (q6_K 32, q3_K 4) times the group's Σx
// and times the group's scale; q2_K's mins (dmin·m) meet the groups' Σx:
//   acc += float(idot_low·sc_2j + idot_high·sc_2j+1)·(d·x.d)
//   q2_K: acc −= (dmin·m_2j)·(x.d·Σx_low) + (dmin·m_2j+1)·(x.d·Σx_high);   y = acc
template <class W, template <DType> class Dot, DType D, int kN>
void DotK16Tile(const uint8_t* group, const QuantizedActs* qx, const ActScales* xs, int64_t supers,
                float* y, int64_t y_stride) {
  using I = typename W::I;
  using F = typename W::F;
  constexpr int kR = W::kGroupRows;
  constexpr int32_t kOffset = D == DType::kQ6_K ? 32 : D == DType::kQ3_K ? 4 : 0;
  using Tile = typename Dot<D>::Tile;
  TileSuperBlocks<W, kN, K16Bytes(D)>(
      group, supers, y, y_stride,
      [&](const uint8_t* col, size_t lanes, F d, int j, size_t xb, F* acc) {
        I qt[8];
        K16TileQuants<W, D>(col, lanes, j, qt);
        const Tile tile(qt);
        I low_scale, high_scale;
        K16TileScales<W, D>(col, lanes, j, &low_scale, &high_scale);
        F low_min = W::Zero(), high_min = W::Zero();
        if constexpr (D == DType::kQ2_K) {
          const F dmin = W::Halves(col + 2 * kR + 2 * lanes);
          const uint8_t* scales = col + TileQ2KScalesOffset(kR) + 2 * j * kR + lanes;
          low_min = W::Mul(dmin, W::Float(W::Shift32(W::ByteInts(scales), -4)));
          high_min = W::Mul(dmin, W::Float(W::Shift32(W::ByteInts(scales + kR), -4)));
        }
        for (int t = 0; t < kN; ++t) {
          const QuantizedActs::Block& x = qx[t].blocks[xb];
          const int32_t low_sum = xs[t].low_sum[xb], high_sum = xs[t].high_sum[xb];
          I low = tile.Half(x, 0), high = tile.Half(x, 1);
          if constexpr (kOffset != 0) {
            low = W::Sub(low, TimesSum(kOffset, low_sum));
            high = W::Sub(high, TimesSum(kOffset, high_sum));
          }
          const I idot = W::Add(W::Mullo(low, low_scale), W::Mullo(high, high_scale));
          acc[t] = W::Fma(W::Float(idot), W::Mul(d, x.d), acc[t]);
          if constexpr (D == DType::kQ2_K) {
            acc[t] = W::FmaScalar(low_min, -(x.d * static_cast<float>(low_sum)), acc[t]);
            acc[t] = W::FmaScalar(high_min, -(x.d * static_cast<float>(high_sum)), acc[t]);
          }
        }
      });
}

// The same for one iq4_xs tile group: per sub-block j the signed levels' dot, then
//   acc += float(idot)·((d·(ls_j − 32))·x.d);   y = acc
template <class W, template <DType> class Dot, int kN>
void DotIq4XsTile(const uint8_t* group, const QuantizedActs* qx, int64_t supers, float* y,
                  int64_t y_stride) {
  using I = typename W::I;
  using F = typename W::F;
  constexpr int kR = W::kGroupRows;
  using Tile = typename Dot<DType::kIQ4_NL>::Tile;
  TileSuperBlocks<W, kN, kIQ4_XSBytes>(
      group, supers, y, y_stride,
      [&](const uint8_t* col, size_t lanes, F d, int j, size_t xb, F* acc) {
        I qt[8];
        UnpackNibbles<W>(col + TileIq4XsQuantsOffset(kR, j) + 4 * lanes, qt);
        LookUpIq4Levels<W>(qt);
        const Tile tile(qt);
        const I ls = SixBitScale<W, 8>(col + TileIq4XsScalesOffset(kR) + lanes, j);
        const F dls = W::Mul(d, W::Float(W::Sub(ls, 32)));
        for (int t = 0; t < kN; ++t) {
          const QuantizedActs::Block& x = qx[t].blocks[xb];
          acc[t] = W::Fma(W::Float(tile.Dot(x)), W::Mul(dls, x.d), acc[t]);
        }
      });
}

template <class W, template <DType> class Dot, DType D, int kN>
void DotKTile(const uint8_t* group, const QuantizedActs* qx, const ActScales* xs, int64_t supers,
              float* y, int64_t y_stride) {
  if constexpr (K16Scales(D)) {
    DotK16Tile<W, Dot, D, kN>(group, qx, xs, supers, y, y_stride);
  } else if constexpr (D == DType::kIQ4_XS) {
    DotIq4XsTile<W, Dot, kN>(group, qx, supers, y, y_stride);
  } else {
    DotQ45KTile<W, Dot, D, kN>(group, qx, supers, y, y_stride);
  }
}

// DotKTile for 1 ≤ n ≤ 8 tokens.
template <class W, template <DType> class Dot, DType D>
void DotKTileN(const uint8_t* group, const QuantizedActs* qx, const ActScales* xs, int64_t n,
               int64_t supers, float* y, int64_t y_stride) {
  switch (n) {
    case 1:
      return DotKTile<W, Dot, D, 1>(group, qx, xs, supers, y, y_stride);
    case 2:
      return DotKTile<W, Dot, D, 2>(group, qx, xs, supers, y, y_stride);
    case 3:
      return DotKTile<W, Dot, D, 3>(group, qx, xs, supers, y, y_stride);
    case 4:
      return DotKTile<W, Dot, D, 4>(group, qx, xs, supers, y, y_stride);
    case 5:
      return DotKTile<W, Dot, D, 5>(group, qx, xs, supers, y, y_stride);
    case 6:
      return DotKTile<W, Dot, D, 6>(group, qx, xs, supers, y, y_stride);
    case 7:
      return DotKTile<W, Dot, D, 7>(group, qx, xs, supers, y, y_stride);
    default:
      return DotKTile<W, Dot, D, 8>(group, qx, xs, supers, y, y_stride);
  }
}

template <template <DType> class Dot, DType D, int kN>
void DotKRows(const uint8_t* row, const QuantizedActs* qx, const ActScales* xs, int64_t supers,
              float* y, int64_t y_stride) {
  if constexpr (K16Scales(D)) {
    DotK16Rows<Dot, D, kN>(row, qx, xs, supers, y, y_stride);
  } else if constexpr (D == DType::kIQ4_XS) {
    DotIq4XsRows<Dot, kN>(row, qx, xs, supers, y, y_stride);
  } else {
    DotQ45KRows<Dot, D, kN>(row, qx, xs, supers, y, y_stride);
  }
}

// Y[n][rows] = X[n][cols]·Wᵀ for a K-quant W (D). Threads take chunks of rows. A matrix in the
// table's tile layout goes a group of rows at a time (DotKTile), tokens in groups of up to
// eight; rows in the stored layout (the rows past the last group, a matrix no table packed)
// go four tokens at a time over all the chunk's rows, so the four tokens' activations stay in L1
// while the rows stream once per four tokens.
template <class W, template <DType> class Dot, DType D>
void GemvKBlocks(const MatRef& w, const QuantizedActs* qx, int64_t n, float* y) {
  ANSER_CHECK(w.layout == MatLayout::kRows || w.layout == W::kLayout,
              "matrix packed for another kernel table");
  const bool tiles = w.layout == W::kLayout;
  const int64_t group = tiles ? W::kGroupRows : 1;
  const size_t row_bytes = DTypeRowBytes(D, w.cols);
  const int64_t supers = w.cols / kKBlock;
  const auto* base = static_cast<const uint8_t*>(w.data);
  // Per calling thread, as the activations: grown, then reused.
  const auto blocks = static_cast<size_t>(w.cols / kQBlock);
  const auto tokens = static_cast<size_t>(n);
  thread_local std::vector<float> scale_floats;
  thread_local std::vector<int32_t> half_sums;
  thread_local std::vector<ActScales> scales;
  if (scale_floats.size() < 2 * blocks * tokens) scale_floats.resize(2 * blocks * tokens);
  if (half_sums.size() < 2 * blocks * tokens) half_sums.resize(2 * blocks * tokens);
  if (scales.size() < tokens) scales.resize(tokens);
  for (size_t t = 0; t < tokens; ++t) {
    float* d = scale_floats.data() + 2 * blocks * t;
    float* s = d + blocks;
    int32_t* low = half_sums.data() + 2 * blocks * t;
    int32_t* high = low + blocks;
    for (size_t b = 0; b < blocks; ++b) {
      const QuantizedActs::Block& x = qx[t].blocks[b];
      d[b] = x.d, s[b] = x.s, low[b] = 0;
      for (int i = 0; i < kQBlock / 2; ++i) low[b] += x.q[i];
      high[b] = x.sum - low[b];
    }
    scales[t] = {d, s, low, high};
  }
  const ActScales* xs = scales.data();  // the workers see this thread's, not their own
  KernelPool().ParallelFor(w.rows, MatvecRowChunk(w.rows, row_bytes, group),
                           [&](int64_t begin, int64_t end) {
                             constexpr int64_t kTileTokens = 8;
                             for (; tiles && begin + W::kGroupRows <= end; begin += W::kGroupRows) {
                               for (int64_t t = 0; t < n; t += kTileTokens) {
                                 DotKTileN<W, Dot, D>(base + begin * row_bytes, qx + t, xs + t,
                                                      std::min(kTileTokens, n - t), supers,
                                                      y + t * w.rows + begin, w.rows);
                               }
                             }
                             int64_t t = 0;
                             for (; t + 4 <= n; t += 4) {
                               for (int64_t r = begin; r < end; ++r)
                                 DotKRows<Dot, D, 4>(base + r * row_bytes, qx + t, xs + t, supers,
                                                     y + t * w.rows + r, w.rows);
                             }
                             for (; t < n; ++t) {
                               for (int64_t r = begin; r < end; ++r)
                                 DotKRows<Dot, D, 1>(base + r * row_bytes, qx + t, xs + t, supers,
                                                     y + t * w.rows + r, w.rows);
                             }
                           });
}

}  // namespace
}  // namespace anser
