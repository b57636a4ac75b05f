#include "logits_guard.h"

#include <string>

namespace anser::cli {

Status CheckLogits(Session& session, const State& state, int token, std::span<const float> logits) {
  if (AllFinite(logits)) return Status::Ok();
  return Status::Error("non-finite logits (NaN or infinity): " + DescribeNonFinite(session, state, token) +
                       "; `anser check -m MODEL` scans the weights for NaN, Inf and absurd magnitudes");
}

}  // namespace anser::cli
