// The .pth reader whole: zip directory, unpickling, tensor validation, then the model.
#include "fuzz_support.h"
#include "io/formats.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace anser;
  const std::string path = fuzz::WriteInput("model.pth", data, size);
  Result<TensorStore> store = LoadTorchPth(path);
  if (!store.ok()) return 0;
  fuzz::ReadEveryByte(*store);
  fuzz::LoadAndRunOneToken(path);
  return 0;
}
