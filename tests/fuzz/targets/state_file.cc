// The state-file loader, for a small model's shapes and for one whose shapes are huge (a
// file must not make the loader allocate what the model would not).
#include "fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace anser;
  const std::string path = fuzz::WriteInput("state.pth", data, size);
  ModelConfig c;
  c.n_layer = 2, c.n_embd = 64, c.n_head = 2, c.head_size = 32, c.n_ffn = 128, c.n_vocab = 256;
  Result<State> state = State::Load(path, c);
  if (!state.ok()) {
    fuzz::Require(!state.message().empty(), "a failed load must say why");
    return 0;
  }
  fuzz::Require(state->SameShape(c), "a loaded state has the model's shape");
  return 0;
}
