#include "fuzz_support.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <vector>

namespace anser::fuzz {
namespace {

const std::filesystem::path& ScratchFolder() {
  static const std::filesystem::path folder = [] {
    std::error_code ec;
    const std::filesystem::path base = std::filesystem::is_directory("/dev/shm", ec)
                                           ? "/dev/shm"
                                           : std::filesystem::temp_directory_path();
    std::filesystem::path dir = base / ("anser_fuzz_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    return dir;
  }();
  return folder;
}

// Removes the scratch folder when the process ends normally.
struct ScratchCleanup {
  ~ScratchCleanup() {
    std::error_code ec;
    std::filesystem::remove_all(ScratchFolder(), ec);
  }
} cleanup;

}  // namespace

std::string WriteInput(const std::string& name, const uint8_t* data, size_t size) {
  const std::filesystem::path path = ScratchFolder() / name;
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  out.close();
  Require(out.good(), "cannot write the fuzz input to the scratch folder");
  return path.string();
}

std::string EmptyFolder(const std::string& name) {
  const std::filesystem::path dir = ScratchFolder() / name;
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  std::filesystem::create_directories(dir);
  return dir.string();
}

void ReadEveryByte(const TensorStore& store) {
  uint64_t sum = 0;
  for (const TensorView& t : store.tensors()) {
    const auto* p = static_cast<const uint8_t*>(t.data);
    for (size_t i = 0; i < t.nbytes(); ++i) sum += p[i];
  }
  volatile uint64_t keep = sum;  // the reads must happen
  (void)keep;
}

void LoadAndRunOneToken(const std::string& path) {
  Result<std::shared_ptr<const Model>> model = Model::Load(path);
  if (!model.ok()) {
    Require(!model.message().empty(), "a failed load must say why");
    return;
  }
  const ModelConfig& c = (*model)->config();
  Session session(*model, SessionOptions{.threads = 1});
  State state(c);
  const std::span<const float> logits = session.Step(state, c.n_vocab - 1);
  Require(logits.size() == static_cast<size_t>(c.n_vocab), "one step gives n_vocab logits");
  std::vector<float> sequence;
  const int tokens[2] = {0, c.n_vocab - 1};
  session.Prefill(state, tokens, /*all_positions=*/true, &sequence);
  Require(sequence.size() == 2 * static_cast<size_t>(c.n_vocab),
          "a sequence gives n_vocab logits a token");
}

void Require(bool property, const char* what) {
  if (property) return;
  std::fprintf(stderr, "fuzz property violated: %s\n", what);
  std::abort();
}

}  // namespace anser::fuzz
