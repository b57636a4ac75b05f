// The training code's random numbers: splitmix64, whose whole state is one 64-bit word, so a
// run's random stream is deterministic from --seed on every platform (std distributions are
// not) and resuming needs to store only that word.
#pragma once

#include <cmath>
#include <cstdint>

namespace anser {

class SplitMix64 {
 public:
  explicit SplitMix64(uint64_t seed) : state_(seed) {}

  uint64_t Next() {
    uint64_t z = (state_ += kGamma);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  // [0, n) for n > 0 (the modulo bias is below 2^-40 for any n a corpus reaches).
  uint64_t Below(uint64_t n) { return Next() % n; }
  // [-1, 1)
  double Uniform() { return static_cast<double>(Next() >> 11) * (2.0 / 9007199254740992.0) - 1.0; }
  // Standard normal (Box-Muller; one value per call keeps the stream simple).
  double Normal() {
    const double u1 = (static_cast<double>(Next() >> 11) + 1.0) / 9007199254740993.0;  // (0, 1]
    const double u2 = static_cast<double>(Next() >> 11) / 9007199254740992.0;
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
  }

  // As if Next() had been called n times: the state is a counter.
  void Skip(uint64_t n) { state_ += n * kGamma; }

  uint64_t state() const { return state_; }

 private:
  static constexpr uint64_t kGamma = 0x9E3779B97F4A7C15ull;
  uint64_t state_;
};

}  // namespace anser
