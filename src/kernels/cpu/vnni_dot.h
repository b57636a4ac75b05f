// The 8-bit dot product of the VNNI tables (avxvnni, avx512) for the block-quantized product
// (quant_gemv_avx2.h): dpbusd multiplies unsigned by signed bytes and adds each group of four
// into a 32-bit lane, replacing maddubs + madd and never saturating. In a tile the activations
// are the signed side and the weights the unsigned one: the 4/5-bit quants are unsigned already,
// and q8_0's (and iq4_nl's levels) become w + 128 (one xor per register and block column), whose
// share 128·Σx is taken off the integer dot per token (Σx is kept with the activations). The integer dot is
// exact either way. Written over the tile registers W and P, which gives dpbusd for 256-bit
// registers and for W's (AVX-VNNI's VEX form or AVX-512 VNNI's EVEX one). In an unnamed
// namespace, as the other ISA helper headers.
#pragma once

#include <immintrin.h>

#include "kernels/cpu/quant_avx2.h"

namespace anser {
namespace {

template <class W, class P, DType D>
struct VnniDot {
  using I = typename W::I;

  struct Block {
    explicit Block(__m256i quants)
        : q(quants), u(SignedQuants(D) ? _mm256_sign_epi8(quants, quants) : quants) {}
    __m256i Dot(const QuantizedActs::Block& x) const {
      const __m256i xq = _mm256_load_si256(reinterpret_cast<const __m256i*>(x.q));
      const __m256i s = SignedQuants(D) ? _mm256_sign_epi8(xq, q) : xq;
      return P::Dpbusd(_mm256_setzero_si256(), u, s);
    }
    __m256i q, u;
  };

  struct Tile {
    explicit Tile(const I* qt) {
      for (int k = 0; k < 8; ++k) q[k] = SignedQuants(D) ? W::Xor(qt[k], W::Bytes(-128)) : qt[k];
    }
    I Dot(const QuantizedActs::Block& x) const {
      // Two chains, so the eight dpbusd do not wait on each other's latency one by one.
      I dot[2] = {W::ZeroInt(), W::ZeroInt()};
      for (int k = 0; k < 8; ++k) dot[k % 2] = P::Dpbusd(dot[k % 2], q[k], W::Quad(x.q, k));
      const I sum = W::Add(dot[0], dot[1]);
      return SignedQuants(D) ? W::Sub(sum, TimesSum(128, x.sum)) : sum;
    }
    // The dot over elements 16·h … 16·h + 15 alone (registers 4h … 4h + 3), for the types
    // whose two halves of a block have scales of their own (K16Scales).
    I Half(const QuantizedActs::Block& x, int h) const {
      static_assert(K16Scales(D));
      I dot[2] = {W::ZeroInt(), W::ZeroInt()};
      for (int k = 4 * h; k < 4 * h + 4; ++k)
        dot[k % 2] = P::Dpbusd(dot[k % 2], q[k], W::Quad(x.q, k));
      return W::Add(dot[0], dot[1]);
    }
    I q[8];
  };
};

}  // namespace
}  // namespace anser
