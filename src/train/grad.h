// Loss and gradients of one batch: the training forward over B sequences × T tokens from the
// zero state (or a learned initial WKV state), mean next-token cross-entropy over the positions
// that have a target (all of them for text; kNoTarget marks the others), and the full backward
// of the x070 model with the switches of its configuration's variant. Real is float (training)
// or double (finite-difference tests).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "anser/status.h"
#include "train/batch.h"
#include "train/dropout.h"
#include "train/params.h"

namespace anser {

struct GradOptions {
  bool l2wrap = false;  // RWKV's L2Wrap term in the logits' gradient of each labelled position
  int threads = 1;
  DropoutSpec dropout;  // on the residual stream after each time mix and channel mix
  bool bf16_products = false;  // matrix products with bfloat16 inputs (train/gemm.h)
};

// What a forward of one batch scores: the mean cross-entropy over its labelled positions, their
// count, and for every position (B·T) whether the first largest logit is its target (0 where it
// has none).
struct EvalStats {
  double loss = 0.0;
  int64_t labelled = 0;
  std::vector<uint8_t> correct;
};

// Returns the mean cross-entropy and sets `grads` (ZerosLike(params), overwritten) to its
// gradient with respect to every parameter; layer 0's unused v0/v1/v2 get zeros.
template <typename Real>
Result<double> ComputeGradients(const Params<Real>& params, const Batch& batch,
                                const GradOptions& options, Params<Real>* grads);

// State tuning: the model frozen, every sequence starts from `init_state` (n_layer, n_head, N,
// N; row i = value index, column j = key index; shift vectors zero). Returns the loss and sets
// `grad` (same shape) to its gradient, summed over the batch.
template <typename Real>
Result<double> ComputeStateGradient(const Params<Real>& params, const Batch& batch,
                                    const std::vector<Real>& init_state, const GradOptions& options,
                                    std::vector<Real>* grad);

// The mean cross-entropy of the batch alone (a forward, no backward), from the zero state or
// from `init_state` (n_layer, n_head, N, N) when it is not null: the validation loss.
template <typename Real>
Result<double> ComputeLoss(const Params<Real>& params, const Batch& batch, const Real* init_state,
                           int threads);

// The loss and accuracy of the batch (a forward, no backward), from the zero state or from
// `init_state` when it is not null.
template <typename Real>
Result<EvalStats> EvaluateBatch(const Params<Real>& params, const Batch& batch,
                                const Real* init_state, int threads);

// The training forward's logits (B·T, n_vocab) for batch.inputs (targets unused), to compare
// with the inference forward.
template <typename Real>
Result<std::vector<Real>> TrainForwardLogits(const Params<Real>& params, const Batch& batch,
                                             int threads);

// The gradients as a torch.load-able `.pth` dict name → float32 tensor (the model's names and
// shapes).
Status SaveGradients(const std::string& path, const ParamSet& grads);

// `init_state` of a `.pth` dict, checked to be (n_layer, n_head, head_size, head_size).
Result<std::vector<float>> LoadInitState(const std::string& path, const ModelConfig& config);

// {"grad": (n_layer, n_head, head_size, head_size)} as a `.pth` file.
Status SaveStateGradient(const std::string& path, const std::vector<float>& grad,
                         const ModelConfig& config);

}  // namespace anser
