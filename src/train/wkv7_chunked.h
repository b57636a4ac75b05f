// Training's WKV-7 recurrence (wkv7_train.h), forward and backward, in the chunked WY form
// (../shared/docs/LANDSCAPE.md §4.2): 16 tokens at a time, from the chunk's initial state S₀,
// with the work inside a chunk as small matrix products instead of 16 dependent steps. Float
// only; wkv7_train.cc chooses it (Wkv7Form) and the instruction set.
//
// Per head, in a chunk of L tokens 0 … L−1, let P_t = w_0⊙…⊙w_t (P_{−1} = 1) and centre the
// decays on the middle token m: e_t = P_t/P_m and f_t = 1/e_t, so that P_t/P_s = e_t⊙f_s and no
// factor exceeds e^{0.61·L/2} (w > 0.545), never 1/P over a whole chunk. Unrolling the
// recurrence, with S₀' = S₀·diag(P_m), r̃_t = r_t⊙e_t, ã_t = a_t⊙e_{t−1}, k̃_s = k_s⊙f_s,
// b̃_s = b_s⊙f_s:
//   u_t = S₀'·ã_t + Σ_{s<t} (ã_t·k̃_s) v_s + (ã_t·b̃_s) u_s        (u_t = sa_t, by substitution)
//   y_t = S₀'·r̃_t + Σ_{s≤t} (r̃_t·k̃_s) v_s + (r̃_t·b̃_s) u_s
//   S_L = (S₀' + Σ_s v_s k̃_sᵀ + u_s b̃_sᵀ)·diag(e_{L−1})
// The state is kept transposed (key-major), so each product runs along contiguous rows.
#pragma once

#include <cstdint>

#include "train/wkv7_train.h"

namespace anser {

// The instruction set a WKV build is compiled for: the baseline, AVX2 with FMA, or AVX-512.
enum class WkvIsa { kBaseline, kAvx2, kAvx512 };

// The chunked forward over (sequence, head) pairs [begin, end) of p: writes what the sequential
// one writes (y, sa and the checkpoints).
void Wkv7ChunkedForward(const Wkv7TrainArgs<float>& p, WkvIsa isa, int64_t begin, int64_t end,
                        float* y, float* sa, float* checkpoints);

// The chunked backward over (sequence, head) pairs [begin, end) of p, from either form's sa and
// checkpoints: writes what the sequential one writes (ds0, when not null, per pair).
void Wkv7ChunkedBackward(const Wkv7TrainArgs<float>& p, WkvIsa isa, const float* sa,
                         const float* checkpoints, const float* dy, float* dr, float* dw, float* dk,
                         float* dv, float* da, float* db, float* ds0, int64_t begin, int64_t end);

}  // namespace anser
