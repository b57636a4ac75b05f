// The WKV-7 recurrence for training: a forward that keeps what the backward needs, and the
// backward of the official CUDA scheme (RWKV-LM RWKV-v7/train_temp/cuda). Per head (N×N state,
// row i = value index, column j = key index), for t = 0 … T−1:
//   sa_t = S_{t−1}·a_t ;  S_t = S_{t−1}·diag(w_t) + sa_t·b_tᵀ + v_t·k_tᵀ ;  y_t = S_t·r_t
// with a = −κ̂, b = κ̂⊙α as in the inference kernel. The forward stores sa_t for every token and
// S_t after every 16th token and after the last one, so memory grows with T/16 states, not T.
#pragma once

#include <cstdint>

namespace anser {

constexpr int64_t kWkvCheckpointEvery = 16;

// Which form of the recurrence runs, forward and backward. Both give the same y, sa, checkpoints
// and gradients up to rounding, and either backward takes either forward's sa and checkpoints;
// double always runs the sequential one (the reference, which the gradient tests use).
enum class Wkv7Form {
  kFastest,  // the faster: the chunked one for float on every kernel table (bench/train_wkv_bench)
  kSequential,  // token by token
  kChunked,     // 16 tokens at a time, in the WY form (wkv7_chunked.h)
};

// B sequences of T tokens; token (b, t)'s vectors are at offset (b·T + t)·n_head·head_size.
template <typename Real>
struct Wkv7TrainArgs {
  int64_t batch = 0, n_tokens = 0, n_head = 0, head_size = 0;
  const Real *r = nullptr, *w = nullptr, *k = nullptr, *v = nullptr, *a = nullptr, *b = nullptr;
  // The state before token 0, (n_head, N, N), shared by every sequence; null means zeros.
  const Real* init_state = nullptr;
  int threads = 1;
  Wkv7Form form = Wkv7Form::kFastest;
};

// Number of Real values the checkpoints of one call take.
int64_t Wkv7CheckpointSize(int64_t batch, int64_t n_tokens, int64_t n_head, int64_t head_size);

// Writes y and sa (batch·n_tokens·n_head·N each) and the checkpoints.
template <typename Real>
void Wkv7TrainForward(const Wkv7TrainArgs<Real>& p, Real* y, Real* sa, Real* checkpoints);

// From dy, overwrites dr, dw, dk, dv, da, db (the gradients of the six inputs). When dstate is
// not null, adds to it (n_head·N·N) the gradient of the initial state summed over the batch.
template <typename Real>
void Wkv7TrainBackward(const Wkv7TrainArgs<Real>& p, const Real* sa, const Real* checkpoints,
                       const Real* dy, Real* dr, Real* dw, Real* dk, Real* dv, Real* da, Real* db,
                       Real* dstate);

}  // namespace anser
