// Readers and writers of tensor files. Each returns a clear error (never crashes) on bad input.
#pragma once

#include <string>
#include <vector>

#include "anser/status.h"
#include "io/tensor_store.h"

namespace anser {

// PyTorch `torch.save` zip archive holding a (possibly nested under "state_dict"-free) dict of
// tensors. Entries are memory-mapped, never copied. Refuses any pickle global outside the small
// set a tensor state dict needs. Handles ZIP64, `archive/` or stem-named top folders.
Result<TensorStore> LoadTorchPth(const std::string& path);

// Writes tensors as a `torch.save` archive (zip, pickle protocol 2, top folder = file stem), so
// `torch.load` reads it back as a dict name → tensor. Written to a temporary file and renamed.
Status SaveTorchPth(const std::string& path, const std::vector<TensorView>& tensors);

// One `.safetensors` file, memory-mapped.
Result<TensorStore> LoadSafetensors(const std::string& path);

// A Hugging Face folder: every `*.safetensors` inside it merged into one store (names as stored).
Result<TensorStore> LoadSafetensorsFolder(const std::string& dir);

}  // namespace anser
