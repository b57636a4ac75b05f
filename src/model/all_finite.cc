#include <cstdint>
#include <cstring>

#include "anser/model.h"

namespace anser {

bool AllFinite(std::span<const float> values) {
  // NaN and ±Inf are the floats whose exponent bits are all ones. Integer tests on the bits,
  // or-ed together, vectorize (an and, a compare and an or per vector), unlike std::isfinite.
  constexpr uint32_t kExponent = 0x7f800000u;
  uint32_t any_non_finite = 0;
  for (float v : values) {
    uint32_t bits;
    std::memcpy(&bits, &v, sizeof bits);
    any_non_finite |= (bits & kExponent) == kExponent;
  }
  return any_non_finite == 0;
}

}  // namespace anser
