// Importance matrices in llama.cpp's formats: per-column sums of the squared inputs of each
// large matrix, which quantizers weigh each column's rounding error by. Written in the GGUF
// format of llama.cpp's `llama-imatrix` (tensors NAME.in_sum2 and NAME.counts, general.type
// "imatrix"); read in that format and in the legacy `.dat` one, so files of either tool serve
// both (docs/FORMATS.md).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "anser/status.h"

namespace anser {

struct Imatrix {
  struct Entry {
    std::vector<float> sum2;  // Σ x² per input column
    float count = 0;          // inputs seen (tokens)
  };
  std::map<std::string, Entry> entries;  // by the matrix's GGUF name (blk.0.time_mix_key.weight)
  std::vector<std::string> datasets;     // the texts it was collected on
  uint32_t chunk_count = 0;              // chunks of chunk_size tokens run
  uint32_t chunk_size = 0;

  // Σx²/count per column (1 for an entry with no inputs), by matrix name: the importance of
  // each column, as llama-quantize derives it.
  std::map<std::string, std::vector<float>> Importance() const;
};

Status SaveImatrix(const std::string& path, const Imatrix& imatrix);

// GGUF or legacy `.dat`, told apart by the GGUF magic.
Result<Imatrix> LoadImatrix(const std::string& path);

}  // namespace anser
