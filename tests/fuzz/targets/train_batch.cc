// The training batch JSON reader, then the id check a trainer runs before using a batch.
#include <string>

#include "fuzz_support.h"
#include "train/batch.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace anser;
  Result<Batch> batch =
      ParseBatchJson(std::string(reinterpret_cast<const char*>(data), size), "fuzz.json");
  if (!batch.ok()) return 0;
  fuzz::Require(batch->inputs.size() == static_cast<size_t>(batch->batch * batch->n_tokens) &&
                    batch->targets.size() == batch->inputs.size(),
                "a parsed batch holds B·T inputs and targets");
  const Status valid = ValidateBatch(*batch, 256);
  fuzz::Require(valid.ok() || !valid.message().empty(), "a rejected batch says why");
  return 0;
}
