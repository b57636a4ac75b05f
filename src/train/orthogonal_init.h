// torch.nn.init.orthogonal_ for the from-scratch initialisation: the Q of a Gaussian matrix's QR,
// drawn from the training code's deterministic random stream.
#pragma once

#include <cstdint>

#include "train/rng.h"

namespace anser {

// out[rows][cols] = gain · Q, where Q has orthonormal columns when rows ≥ cols (orthonormal rows
// otherwise): the Q of the QR of a matrix of rows·cols standard normals drawn from `rng` (R's
// diagonal positive). As the official inits do, the gain is multiplied by √(rows/cols) when
// rows > cols. The result does not depend on `threads`.
void OrthogonalInit(float* out, int64_t rows, int64_t cols, double gain, SplitMix64& rng,
                    int threads);

}  // namespace anser
