// Random weights of a given configuration under the official `.pth` names, generated in
// memory (for benchmarks and tests: no download needed). Layer 0 carries the unused
// v0/v1/v2 as official files do, so the parameter count matches CountParams().
#pragma once

#include <cstdint>
#include <string>

#include "anser/model.h"
#include "io/tensor_store.h"

namespace anser {

// `dtype` is "f32", "f16" or "bf16" (every tensor stored so, as official files are) or a block
// type "q8_0", "q5_0", "q4_0", "q4_1" (each tensor stored as `anser quantize` would store it).
Result<TensorStore> RandomStore(const ModelConfig& config, const std::string& dtype, uint64_t seed);

}  // namespace anser
