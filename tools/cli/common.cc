#include "common.h"

#include <malloc.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <limits>
#include <random>
#include <sstream>
#include <system_error>

#include "core/install_dir.h"
#include "flag_checks.h"

namespace anser::cli {

namespace {

std::string& CommandLineStorage() {
  static std::string line;
  return line;
}

}  // namespace

void SetCommandLine(int argc, char** argv) {
  std::string& line = CommandLineStorage();
  line.clear();
  for (int i = 0; i < argc; ++i) {
    const std::string word = i == 0 ? std::filesystem::path(argv[0]).filename().string() : argv[i];
    if (i > 0) line.push_back(' ');
    line.append(word.find(' ') == std::string::npos ? word : "'" + word + "'");
  }
}

const std::string& CommandLine() { return CommandLineStorage(); }

int Fail(const std::string& message) {
  std::fprintf(stderr, "anser: error: %s\n", message.c_str());
  return kExitFailure;
}

int FailUsage(const std::string& message) {
  std::fprintf(stderr, "anser: error: %s\n", message.c_str());
  return kExitUsage;
}

Result<std::shared_ptr<const Model>> OpenModel(const std::string& path, WeightLayout layout) {
  std::error_code error;
  if (!std::filesystem::exists(path, error)) {
    return Status::Error("model '" + path +
                         "' not found: pass -m with an official RWKV-7 .pth file or a Hugging "
                         "Face folder (config.json + *.safetensors)");
  }
  // A large checkpoint takes seconds (bf16 widening, packing for the kernels): on a terminal a
  // status line says what is happening, erased once the model is loaded.
  const bool terminal = isatty(STDERR_FILENO) != 0;
  if (terminal) std::fprintf(stderr, "loading %s ...", path.c_str());
  Result<std::shared_ptr<const Model>> model = Model::Load(path, layout);
  if (terminal) std::fputs("\r\x1b[K", stderr);
  return model;
}

std::string DefaultModelPath() {
  namespace fs = std::filesystem;
  std::vector<fs::path> candidates;
  if (const std::string installed = InstalledDataDir(); !installed.empty()) {
    candidates.push_back(fs::path(installed) / "default.pth");
  }
  candidates.emplace_back(ANSER_DEFAULT_MODEL);
  std::error_code error;
  for (const fs::path& p : candidates) {
    if (fs::is_regular_file(p, error)) return p.lexically_normal().string();
  }
  return "";
}

Result<std::string> ModelOrDefault(const std::string& model) {
  if (!model.empty()) return model;
  std::string path = DefaultModelPath();
  if (path.empty()) {
    return Status::Error(std::string("no -m MODEL given, and Anser's default model was not found (") +
                         ANSER_DEFAULT_MODEL +
                         " or ../share/anser/default.pth beside the executable): pass -m with an "
                         "RWKV-7 .pth/.gguf file or a Hugging Face folder");
  }
  return path;
}

Result<std::unique_ptr<Tokenizer>> OpenTokenizer(const std::string& model_path, const Model& model,
                                                 const std::string& vocab_flag) {
  return TokenizerForModel(model_path, model.config().n_vocab, vocab_flag);
}

Result<std::vector<int>> ParseIds(const std::string& text) {
  std::vector<int> ids;
  size_t pos = 0;
  const auto is_space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
  // The empty list is written as "" (or only spaces).
  if (text.find_first_not_of(" \t\r\n") == std::string::npos) return ids;
  while (true) {
    size_t end = text.find(',', pos);
    if (end == std::string::npos) end = text.size();
    size_t b = pos, e = end;
    while (b < e && is_space(text[b])) ++b;
    while (e > b && is_space(text[e - 1])) --e;
    int id = 0;
    const auto [ptr, ec] = std::from_chars(text.data() + b, text.data() + e, id);
    if (b == e || ec != std::errc() || ptr != text.data() + e) {
      return Status::Error("bad token id '" + text.substr(b, e - b) + "' in '" + text +
                           "': write ids as comma-separated integers, e.g. 1,2,3");
    }
    ids.push_back(id);
    if (end == text.size()) break;
    pos = end + 1;
  }
  return ids;
}

Status CheckIds(const std::vector<int>& ids, int n_vocab) {
  for (size_t i = 0; i < ids.size(); ++i) {
    if (ids[i] < 0 || ids[i] >= n_vocab) {
      return Status::Error("token id " + std::to_string(ids[i]) + " at position " +
                           std::to_string(i) + " is outside the model's vocabulary [0, " +
                           std::to_string(n_vocab) + ")");
    }
  }
  return Status::Ok();
}

Result<std::string> ReadInput(const std::string& path) {
  if (path == "-") {
    std::ostringstream buffer;
    buffer << std::cin.rdbuf();
    return buffer.str();
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::Error("cannot open '" + path + "': check that the file exists");
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) return Status::Error("cannot read '" + path + "'");
  return bytes;
}

void WriteOut(const std::string& bytes) {
  if (bytes.empty()) return;
  std::fwrite(bytes.data(), 1, bytes.size(), stdout);
  std::fflush(stdout);
}

void PrefillWithProgress(Session& session, State& state, std::span<const int> tokens,
                         std::vector<float>* last_logits) {
  // Below this a prefill takes well under a second on any model Anser runs on a CPU.
  constexpr size_t kChunk = 512;
  if (tokens.size() <= kChunk) {
    session.Prefill(state, tokens, /*all_positions=*/false, last_logits);
    return;
  }
  ProgressBar bar("prefill", static_cast<int64_t>(tokens.size()));
  for (size_t done = 0; done < tokens.size(); done += kChunk) {
    const size_t n = std::min(kChunk, tokens.size() - done);
    session.Prefill(state, tokens.subspan(done, n), /*all_positions=*/false, last_logits);
    bar.Update(static_cast<int64_t>(done + n), "tokens");
  }
  bar.Finish();
}

bool StdoutSharesStderrLine() {
  if (isatty(STDOUT_FILENO) != 0) return true;
  struct stat out {};
  struct stat err {};
  return fstat(STDOUT_FILENO, &out) == 0 && fstat(STDERR_FILENO, &err) == 0 &&
         out.st_dev == err.st_dev && out.st_ino == err.st_ino;
}

void AddThreadsFlag(CLI::App* sub, int* threads) {
  sub->add_option("--threads", *threads, "Compute threads (0 = all cores)")
      ->check(WholeInRange(0, kMaxThreads))
      ->capture_default_str();
}

void AddVariantFlags(CLI::App* sub, std::string* ablate, double* iclr_mult) {
  sub->add_option("--ablate", *ablate,
                  "New model: switch parts off, comma-separated: delta (no removal term), "
                  "scalar-decay, scalar-iclr, shared-keys, no-bonus");
  sub->add_option("--iclr-mult", *iclr_mult,
                  "New model: scale the removal term by C (x070: 1; the paper's proofs: 2)")
      ->check(InRange(0, 4))
      ->capture_default_str();
}

std::string VariantNote(const ModelVariant& variant) {
  if (variant.IsDefault()) return "";
  std::string note;
  if (variant.Name() != "full") note += ", ablate " + variant.Name();
  if (variant.iclr_mult != 1.0) {
    char mult[32];
    std::snprintf(mult, sizeof(mult), "%g", variant.iclr_mult);
    note += std::string(", iclr-mult ") + mult;
  }
  return note;
}

void AddSamplingFlags(CLI::App* sub, SamplerOptions* options, CLI::Option** seed_option) {
  sub->add_option("--temperature", options->temperature, "Sampling temperature (0 = greedy)")
      ->check(AtLeast(0))
      ->capture_default_str();
  sub->add_option("--top-p", options->top_p,
                  "Nucleus sampling: keep the top tokens up to this probability mass (1 = off)")
      ->check(InRange(0, 1, /*lo_open=*/true))
      ->capture_default_str();
  sub->add_option("--top-k", options->top_k, "Keep only the K most probable tokens (0 = off)")
      ->check(WholeInRange(0))
      ->capture_default_str();
  sub->add_option("--min-p", options->min_p,
                  "Drop tokens below P times the top probability (0 = off)")
      ->check(InRange(0, 1, /*lo_open=*/false, /*hi_open=*/true))
      ->capture_default_str();
  sub->add_option("--presence-penalty", options->presence_penalty,
                  "Subtracted from the logit of every token already generated")
      ->check(Finite())
      ->capture_default_str();
  sub->add_option("--frequency-penalty", options->frequency_penalty,
                  "Subtracted from a token's logit once per (decayed) occurrence")
      ->check(Finite())
      ->capture_default_str();
  sub->add_option("--penalty-decay", options->penalty_decay,
                  "Each step, occurrence counts are multiplied by this")
      ->check(InRange(0, 1))
      ->capture_default_str();
  *seed_option = sub->add_option("--seed", options->seed,
                                 "Random seed (default: a new one each run, shown on stderr)")
      ->check(UnsignedWhole());
}

uint64_t RandomSeed() {
  std::random_device device;
  const auto ticks =
      static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
  return (static_cast<uint64_t>(device()) << 32) ^ device() ^ ticks;
}

void KeepFreedMemoryForReuse() {
  // The largest mmap threshold glibc takes (32 MiB on 64-bit); never trim the heap's top.
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, std::numeric_limits<int>::max());
}

int64_t PeakRssBytes() {
  // VmHWM is exact in bytes (kB granularity); getrusage is the portable fallback.
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmHWM:", 0) == 0) {
      std::istringstream fields(line.substr(6));
      int64_t kb = 0;
      if (fields >> kb) return kb * 1024;
    }
  }
  rusage usage{};
  if (getrusage(RUSAGE_SELF, &usage) == 0) return static_cast<int64_t>(usage.ru_maxrss) * 1024;
  return 0;
}

double SecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

ProgressBar::ProgressBar(std::string label, int64_t total)
    : label_(std::move(label)),
      total_(total),
      enabled_(isatty(STDERR_FILENO) != 0),
      start_(std::chrono::steady_clock::now()),
      last_draw_(start_) {}

ProgressBar::~ProgressBar() { Finish(); }

void ProgressBar::Update(int64_t done, const std::string& note) {
  if (!enabled_) return;
  const auto now = std::chrono::steady_clock::now();
  if (drawn_ && done < total_ && now - last_draw_ < std::chrono::milliseconds(100)) return;
  last_draw_ = now;
  Draw(done, note);
}

void ProgressBar::Draw(int64_t done, const std::string& note) {
  constexpr int kWidth = 30;
  const double fraction =
      total_ > 0 ? static_cast<double>(done) / static_cast<double>(total_) : 1.0;
  const int filled = static_cast<int>(fraction * kWidth);
  std::string bar(static_cast<size_t>(filled), '=');
  if (filled < kWidth) bar += '>';
  bar.resize(kWidth, ' ');
  std::fprintf(stderr, "\r%s [%s] %lld/%lld %.1fs %s\x1b[K", label_.c_str(), bar.c_str(),
               static_cast<long long>(done), static_cast<long long>(total_), SecondsSince(start_),
               note.c_str());
  std::fflush(stderr);
  drawn_ = true;
}

void ProgressBar::Finish() {
  if (!drawn_) return;
  std::fputc('\n', stderr);
  drawn_ = false;
}

}  // namespace anser::cli
