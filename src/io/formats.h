// Readers and writers of tensor files. Each returns a clear error (never crashes) on bad input.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "anser/status.h"
#include "io/gguf.h"
#include "io/tensor_source.h"
#include "io/tensor_store.h"

namespace anser {

// PyTorch `torch.save` zip archive holding a (possibly nested under "state_dict"-free) dict of
// tensors. Entries are memory-mapped, never copied. Refuses any pickle global outside the small
// set a tensor state dict needs. Handles ZIP64, `archive/` or stem-named top folders.
Result<TensorStore> LoadTorchPth(const std::string& path);
// The same from an archive in memory; `name` stands for the file in errors (and its stem is the
// top folder looked for first). The store keeps `bytes` alive.
Result<TensorStore> LoadTorchPthBytes(std::shared_ptr<const std::string> bytes, const std::string& name);

// Writes tensors as a `torch.save` archive (zip, pickle protocol 2, top folder = file stem), so
// `torch.load` reads it back as a dict name → tensor. Written to a temporary file and renamed.
Status SaveTorchPth(const std::string& path, const std::vector<TensorView>& tensors);
// The bytes SaveTorchPth would write to a file called `name`.
Result<std::string> TorchPthBytes(const std::vector<TensorView>& tensors, const std::string& name);

// One `.safetensors` file, memory-mapped.
Result<TensorStore> LoadSafetensors(const std::string& path);

// A Hugging Face folder: every `*.safetensors` inside it merged into one store (names as stored).
Result<TensorStore> LoadSafetensorsFolder(const std::string& dir);

// Writes tensor sources as one `.safetensors` file (header metadata {"format": "pt"}), streamed
// through a temporary file and renamed. Types f32, f16, bf16, i64, i32, u8.
Status SaveSafetensors(const std::string& path, const std::vector<TensorSource>& tensors);

// What LoadGguf reads: everything, or the metadata alone (the tensor infos are still checked,
// but no tensor is placed or converted: for readers of the vocabulary).
enum class GgufRead { kAll, kMetadata };

// A GGUF file, version 2 or 3: its metadata, and its tensors mapped in place under their GGUF
// names with PyTorch-order shapes. Tensor types f32, f16, bf16, q8_0, q5_0, q5_1, q4_0, q4_1,
// q2_K…q6_K, iq4_nl and iq4_xs as stored; q8_K converted to q8_0 at load (GgufFile::converted);
// any other type is an error naming the tensor, the type and the types read.
Result<GgufFile> LoadGguf(const std::string& path, GgufRead what = GgufRead::kAll);

// Writes a GGUF v3 file: `metadata` as given (general.alignment, if set, must be a u32 power
// of two; default 32), then the tensors, each at an aligned offset. Streamed through a
// temporary file and renamed; `progress`, if set, is called after each tensor.
Status SaveGguf(const std::string& path, const GgufMetadata& metadata, const std::vector<TensorSource>& tensors,
                const std::function<void(size_t done, size_t total)>& progress = {});

}  // namespace anser
