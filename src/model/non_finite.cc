#include <cstdint>
#include <cstring>
#include <string>

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

std::string DescribeNonFinite(Session& session, const State& state, int token) {
  const std::optional<NonFiniteSite> site = session.FindNonFinite(state, token);
  if (!site) return "a checked re-run of token " + std::to_string(token) + " from the same state found every quantity finite";
  const int n_layer = session.model().config().n_layer;
  const std::string where = site->layer < 0         ? std::string("the embedding")
                            : site->layer >= n_layer ? std::string("the head")
                                                     : "layer " + std::to_string(site->layer);
  return "the first non-finite value is in " + where + ", " + site->quantity + " (found by a checked re-run of token " +
         std::to_string(token) + ")";
}

}  // namespace anser
