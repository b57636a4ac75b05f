// The official x070 initialisation for training from scratch (RWKV-LM
// RWKV-v7/train_temp/src/model.py and its generate_init_weight; formulas in docs/RWKV7.md),
// deterministic from a seed.
#pragma once

#include <cstdint>

#include "anser/model.h"
#include "anser/status.h"
#include "train/params.h"

namespace anser {

// The LoRA ranks the official trainer derives from the width:
// max(32, round(C^e·f/32)·32) with (e, f) = (0.5, 1.8) for w and a, (0.5, 1.3) for v,
// (0.8, 0.6) for g.
LoraRanks OfficialLoraRanks(int n_embd);

// A from-scratch configuration: FFN 4C, the official ranks, n_embd / head_size heads.
Result<ModelConfig> ScratchConfig(int n_layer, int n_embd, int head_size, int n_vocab);

// Every tensor of `config` under its official name (layer 0 carries v0/v1/v2 as official files
// do), initialised as the official trainer does. The values do not depend on `threads`.
Result<ParamSet> InitParams(const ModelConfig& config, uint64_t seed, int threads);

}  // namespace anser
