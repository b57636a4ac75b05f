// What a training run leaves for the inference side: the weights as an official `.pth`
// checkpoint, and a learned initial state as an Anser state file.
#pragma once

#include <string>
#include <vector>

#include "anser/model.h"
#include "anser/status.h"
#include "train/params.h"

namespace anser {

// The official layout (names and shapes as stored), every tensor float32, or rounded to bf16
// (round to nearest even, as torch) when `bf16`, and the switch tensors of the configuration's
// variant (model/variant.h). Atomic (SaveTorchPth).
Status SaveParams(const std::string& path, const ParamSet& params, bool bf16);

// The state-file format State::Load reads: wkv = `init_state` (n_layer, n_head, N, N), both
// shift vectors zero (state tuning learns the WKV state only).
Status SaveInitState(const std::string& path, const std::vector<float>& init_state,
                     const ModelConfig& config);

}  // namespace anser
