// The check the CLI runs on the logits of every token before sampling from them.
#pragma once

#include <span>

#include "anser/model.h"
#include "anser/status.h"

namespace anser::cli {

// The exit status of a generation stopped by non-finite logits.
inline constexpr int kExitNonFinite = 3;

// OK when every logit is finite. Otherwise an error naming the first layer and quantity that
// holds a NaN or an infinity, found by re-running `token` with every quantity checked from
// `state` (the state the generation reached; not changed).
Status CheckLogits(Session& session, const State& state, int token, std::span<const float> logits);

}  // namespace anser::cli
