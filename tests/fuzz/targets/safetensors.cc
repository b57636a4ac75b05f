// One .safetensors file, then the same file as a Hugging Face folder (names mapped to the
// official ones, the model validated and run).
#include <filesystem>

#include "fuzz_support.h"
#include "io/formats.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace anser;
  const std::string path = fuzz::WriteInput("model.safetensors", data, size);
  Result<TensorStore> store = LoadSafetensors(path);
  if (!store.ok()) return 0;
  fuzz::ReadEveryByte(*store);
  const std::string folder = fuzz::EmptyFolder("hf");
  std::filesystem::rename(path, std::filesystem::path(folder) / "model.safetensors");
  fuzz::LoadAndRunOneToken(folder);
  return 0;
}
