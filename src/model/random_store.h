// Random weights of a given configuration under the official `.pth` names, generated in
// memory (for benchmarks and tests: no download needed). Layer 0 carries the unused
// v0/v1/v2 as official files do, so the parameter count matches CountParams().
#pragma once

#include <cstdint>
#include <string>

#include "anser/model.h"
#include "io/tensor_store.h"

namespace anser {

// `dtype` ("f32", "f16" or "bf16") is the stored type of every tensor.
Result<TensorStore> RandomStore(const ModelConfig& config, const std::string& dtype, uint64_t seed);

}  // namespace anser
