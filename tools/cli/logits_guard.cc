#include "logits_guard.h"

#include <string>

namespace anser::cli {

Status CheckLogits(Session& session, const State& state, int token, std::span<const float> logits) {
  if (AllFinite(logits)) return Status::Ok();
  const int n_layer = session.model().config().n_layer;
  std::string message =
      "non-finite logits (NaN or infinity) after token " + std::to_string(token) + ": ";
  const std::optional<NonFiniteSite> site = session.FindNonFinite(state, token);
  if (!site) {
    message += "a checked re-run of the token from the same state found every quantity finite";
  } else {
    const std::string where = site->layer < 0          ? std::string("the embedding")
                              : site->layer >= n_layer ? std::string("the head")
                                                       : "layer " + std::to_string(site->layer);
    message += "the first non-finite value is in " + where + ", " + site->quantity +
               " (found by a checked re-run of the token)";
  }
  return Status::Error(
      message + "; `anser check -m MODEL` scans the weights for NaN, Inf and absurd magnitudes");
}

}  // namespace anser::cli
