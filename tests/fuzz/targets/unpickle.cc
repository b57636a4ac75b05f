// The restricted unpickler alone. Every global is allowed here (the .pth target checks the
// real filter), so the fuzzer reaches REDUCE, BUILD and persistent ids.
#include "fuzz_support.h"
#include "io/unpickler.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace anser;
  const PickleGlobalFilter allow_all = [](std::string_view, std::string_view) {
    return Status::Ok();
  };
  Result<PickleGraph> graph = Unpickle(data, size, allow_all);
  if (!graph.ok()) {
    fuzz::Require(!graph.message().empty(), "a failed unpickle must say why");
    return 0;
  }
  // Every reference points inside the arena.
  for (uint32_t id = 0; id < graph->size(); ++id) {
    for (uint32_t item : graph->object(id).items)
      fuzz::Require(item < graph->size(), "item id in range");
  }
  return 0;
}
