// Choosing the tokenizer a model needs from its vocabulary size, and finding the World
// vocabulary file for it.
#include <cstdlib>
#include <filesystem>
#include <string>
#include <system_error>
#include <vector>

#include "anser/tokenizer.h"
#include "core/install_dir.h"
#include "tokenizer/gguf_vocab_reader.h"
#include "tokenizer/world_tokenizer.h"

namespace anser {
namespace {

constexpr int kWorldVocabSize = 65536;
constexpr int kByteVocabSize = 256;
constexpr const char* kWorldVocabFile = "rwkv_vocab_v20230424.txt";

// Where the vocabulary may lie, in the order searched: beside the model file (or inside the
// model's folder), then $ANSER_VOCAB. The flag is handled by the caller: when given, it is the
// only place looked at, so a typo in it is reported rather than silently bypassed.
std::vector<std::string> CandidatePaths(const std::string& model_path) {
  namespace fs = std::filesystem;
  std::vector<std::string> candidates;
  std::error_code error;
  const fs::path model(model_path);
  fs::path folder = fs::is_directory(model, error) ? model : model.parent_path();
  if (folder.empty()) folder = ".";
  candidates.push_back((folder / kWorldVocabFile).string());
  if (const char* env = std::getenv("ANSER_VOCAB"); env != nullptr && env[0] != '\0') {
    candidates.push_back(env);
  }
  return candidates;
}

// The copy of the vocabulary installed with Anser, or "" when there is none.
std::string InstalledVocab() {
  const std::string dir = InstalledDataDir();
  if (dir.empty()) return "";
  const std::string path = (std::filesystem::path(dir) / kWorldVocabFile).string();
  std::error_code error;
  return std::filesystem::is_regular_file(path, error) ? path : "";
}

std::string WhereToGetIt() {
  return std::string("Get ") + kWorldVocabFile +
         " from the RWKV-LM repository (github.com/BlinkDL/RWKV-LM, RWKV-v5/" + kWorldVocabFile +
         ") and pass it with --vocab PATH or $ANSER_VOCAB.";
}

}  // namespace

Result<std::unique_ptr<Tokenizer>> LoadInstalledWorldTokenizer() {
  if (const std::string installed = InstalledVocab(); !installed.empty()) {
    return LoadWorldTokenizer(installed);
  }
  return Status::Error("[tokenizer] Anser's own copy of the World vocabulary (" +
                       InstalledDataDir() + "/" + kWorldVocabFile + ") is not installed. " +
                       WhereToGetIt());
}

Result<std::unique_ptr<Tokenizer>> TokenizerForModel(const std::string& model_path, int n_vocab,
                                                     const std::string& vocab_flag) {
  if (n_vocab == kByteVocabSize) return MakeByteTokenizer();
  if (n_vocab != kWorldVocabSize) return std::unique_ptr<Tokenizer>();
  if (!vocab_flag.empty()) return LoadWorldTokenizer(vocab_flag);

  const std::vector<std::string> candidates = CandidatePaths(model_path);
  for (const std::string& path : candidates) {
    std::error_code error;
    if (std::filesystem::is_regular_file(path, error)) return LoadWorldTokenizer(path);
  }
  // A GGUF file usually carries its vocabulary: the next best after a file the user placed.
  if (std::filesystem::path(model_path).extension() == ".gguf") {
    Result<WorldVocab> embedded = ReadGgufWorldVocab(model_path);
    if (embedded.ok()) return MakeWorldTokenizer(embedded.value());
  }
  if (const std::string installed = InstalledVocab(); !installed.empty()) {
    return LoadWorldTokenizer(installed);
  }
  std::string message = "[tokenizer] model " + model_path +
                        " has 65536 tokens and needs the RWKV World vocabulary " + kWorldVocabFile +
                        ", which was not found. Looked at:";
  for (const std::string& path : candidates) message += "\n  " + path;
  if (candidates.size() == 1) message += "\n  $ANSER_VOCAB (not set)";
  message.append("\n  ").append(InstalledDataDir()).append("/").append(kWorldVocabFile);
  message.append(" (Anser's own copy: not installed)\n").append(WhereToGetIt());
  return Status::Error(message);
}

}  // namespace anser
