#include <cstdint>
#include <cstring>

#include "anser/model.h"

namespace anser {

bool AllFinite(std::span<const float> values) {
  // NaN and ±Inf are the floats whose exponent bits are all ones: the largest exponent seen
  // decides. Integer max over the bits vectorizes, unlike a loop of std::isfinite calls.
  uint32_t largest_exponent = 0;
  for (float v : values) {
    uint32_t bits;
    std::memcpy(&bits, &v, sizeof bits);
    const uint32_t exponent = bits & 0x7f800000u;
    largest_exponent = exponent > largest_exponent ? exponent : largest_exponent;
  }
  return largest_exponent != 0x7f800000u;
}

}  // namespace anser
