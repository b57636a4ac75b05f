#include "train/dropout.h"

#include <cmath>

#include "train/rng.h"

namespace anser {
namespace {

// The finaliser of splitmix64: a bijection of 64-bit words that scatters every input bit.
uint64_t Scatter(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

}  // namespace

uint64_t DropoutSeed(uint64_t run_seed, int64_t step) {
  constexpr uint64_t kDropoutStream = 0x6472'6f70'6f75'7421ull;  // "dropout!"
  return Scatter(Scatter(run_seed ^ kDropoutStream) + static_cast<uint64_t>(step));
}

template <typename Real>
std::vector<Real> DropoutMask(const DropoutSpec& spec, int layer, DropoutSite site, int64_t rows,
                              int64_t cols) {
  // Decisions are 16-bit draws against a threshold, four from each 64-bit word; the kept
  // values are scaled by the exact inverse of the rounded keep probability.
  const auto threshold = static_cast<uint32_t>(std::lround(spec.p * 65536.0));
  const Real keep = static_cast<Real>(65536.0 / (65536.0 - threshold));
  const uint64_t stream =
      Scatter(spec.seed ^ Scatter((static_cast<uint64_t>(layer) << 1) | static_cast<uint64_t>(site)));
  std::vector<Real> mask(static_cast<size_t>(rows * cols));
  for (int64_t r = 0; r < rows; ++r) {
    SplitMix64 rng(stream ^ Scatter(static_cast<uint64_t>(spec.first_row + r)));
    Real* out = mask.data() + r * cols;
    uint64_t bits = 0;
    for (int64_t c = 0; c < cols; ++c) {
      if (c % 4 == 0) bits = rng.Next();
      out[c] = (bits & 0xFFFF) >= threshold ? keep : Real(0);
      bits >>= 16;
    }
  }
  return mask;
}

template <typename Real>
void ApplyMask(const std::vector<Real>& mask, Real* x) {
  for (size_t i = 0; i < mask.size(); ++i) x[i] *= mask[i];
}

template std::vector<float> DropoutMask<float>(const DropoutSpec&, int, DropoutSite, int64_t,
                                               int64_t);
template std::vector<double> DropoutMask<double>(const DropoutSpec&, int, DropoutSite, int64_t,
                                                 int64_t);
template void ApplyMask<float>(const std::vector<float>&, float*);
template void ApplyMask<double>(const std::vector<double>&, double*);

}  // namespace anser
