// The resume file of a training run (DIR/resume/trainer.bin): one file, so a checkpoint is
// never half from one step and half from another. Layout: the magic "ANSER-TRAIN-1\n", a
// little-endian u64 byte count and that many bytes of JSON (the run's metadata), then a u64
// count and that many float32 values (weights, moments). Written to a temporary and renamed.
#pragma once

#include <string>
#include <vector>

#include "anser/status.h"

namespace anser {

struct ResumeFile {
  std::string meta_json;
  std::vector<float> values;
};

Status WriteResumeFile(const std::string& path, const std::string& meta_json,
                       const std::vector<const std::vector<float>*>& parts);
Result<ResumeFile> ReadResumeFile(const std::string& path);

}  // namespace anser
