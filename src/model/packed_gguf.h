// Packed GGUF files (`anser quantize --layout packed`, docs/FORMATS.md): an rwkv7 file whose
// block-quantized projections and head hold the bytes a kernel table's `pack` leaves, under an
// architecture of their own so that llama.cpp refuses them rather than reading tiles as rows.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "anser/status.h"
#include "io/gguf.h"
#include "kernels/kernels.h"

namespace anser {

inline constexpr const char* kPackedArchitecture = "anser-rwkv7-packed";
// Raised whenever a tile layout's bytes change meaning: a reader refuses other versions.
inline constexpr uint32_t kPackedLayoutVersion = 1;

// The types a packed file holds packed: the block types, whose every tile layout UnpackMatrix
// undoes.
bool PackedFileHolds(DType dtype);

// Turns the metadata of an rwkv7 file into a packed one's: the architecture, and the layout,
// version, table and names (`tensors`, GGUF names) of the matrices packed for `table`.
void MarkPacked(const CpuKernels& table, const std::vector<std::string>& tensors,
                GgufMetadata* metadata);

// For a file of the packed architecture: checks its layout keys and sets the layout of every
// tensor they name (block-quantized matrices only). Files of another architecture pass as they
// are.
Status ReadPackedLayout(GgufFile* gguf);

}  // namespace anser
