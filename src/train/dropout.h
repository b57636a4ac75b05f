// Dropout on the residual stream, where RWKV-LM's Block puts it (x = drop(x + att(ln1(x)));
// x = drop(x + ffn(ln2(x)))): each element is kept with probability 1 − p and then scaled so
// its mean is unchanged. A keep decision is a pure function of (seed, layer, site, row of the
// global batch, column), so a step's masks do not depend on the threads, on how the batch is
// shared out over processes, or on where a run was resumed.
#pragma once

#include <cstdint>
#include <vector>

namespace anser {

struct DropoutSpec {
  double p = 0.0;             // probability of dropping an element; 0: no dropout
  uint64_t seed = 0;          // one per optimiser step
  int64_t first_row = 0;      // the global-batch row (sequence · T + token) of local row 0
  bool active() const { return p > 0.0; }
};

// The seed of step `step`'s masks in a run seeded `run_seed`: distinct from the data order's
// stream, and the same whether the run was resumed or not.
uint64_t DropoutSeed(uint64_t run_seed, int64_t step);

// Where in a block the mask applies.
enum class DropoutSite : int { kAfterTimeMix = 0, kAfterChannelMix = 1 };

// The mask of `rows` rows × `cols` columns for one layer and site: 0 where dropped, else
// 1 / P(keep).
template <typename Real>
std::vector<Real> DropoutMask(const DropoutSpec& spec, int layer, DropoutSite site, int64_t rows,
                              int64_t cols);

// x[i] *= mask[i] over n values.
template <typename Real>
void ApplyMask(const std::vector<Real>& mask, Real* x);

}  // namespace anser
