// Helpers shared by the subcommands of the `anser` command-line tool.
#pragma once

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "anser/model.h"
#include "anser/sampler.h"
#include "anser/status.h"
#include "anser/tokenizer.h"

namespace anser {
struct CpuKernels;  // kernels/kernels.h
}  // namespace anser

namespace anser::cli {

// A registered subcommand and the function that runs it once the command line is parsed.
// `run` returns the process exit code.
struct Command {
  CLI::App* app = nullptr;
  std::function<int()> run;
};

Command AddGenerate(CLI::App& app);
Command AddChat(CLI::App& app);
Command AddLogits(CLI::App& app);
Command AddTokenize(CLI::App& app);
Command AddDetokenize(CLI::App& app);
Command AddInfo(CLI::App& app);
Command AddCheck(CLI::App& app);
Command AddEval(CLI::App& app);
Command AddBench(CLI::App& app);
Command AddQuantize(CLI::App& app);
Command AddImatrix(CLI::App& app);
Command AddConvert(CLI::App& app);
Command AddGrad(CLI::App& app);
Command AddTrain(CLI::App& app);
Command AddPlotLoss(CLI::App& app);
Command AddServe(CLI::App& app);
Command AddExperiment(CLI::App& app);

// The command line the process was started with, its words joined by spaces (quoted where they
// hold a space), for the records experiments write. Set once by main.
void SetCommandLine(int argc, char** argv);
const std::string& CommandLine();

// What `convert` and `quantize` read: a model file, or random weights of an official shape.
struct ConversionInput {
  std::string path;
  std::string shape;
  uint64_t seed = 1;
};
// Registers IN, OUT, --shape and --seed on `sub`.
void AddConversionInput(CLI::App* sub, ConversionInput* input, std::string* out);

// Writes the model `input` names to `out` (format by its name) as `dtype` ("" keeps the stored
// types), embedding the vocabulary in GGUF outputs; refuses an existing `out` unless `force`.
// Returns the exit code.
// Every --dtype name of quantize and bench in its canonical case: the types Anser runs as
// stored, then the llama.cpp types and mixes (model/ggml_target.h).
std::vector<std::string> StoredTypeNames();

// `imatrix`, if not empty, is an importance matrix file that steers the llama.cpp types;
// `pack_for`, if set, makes a GGUF output a packed file for that kernel table.
int RunConversion(ConversionInput input, std::string out, const std::string& dtype,
                  const std::string& vocab, bool force, const std::string& imatrix = "",
                  const CpuKernels* pack_for = nullptr);

// Exit statuses: a command that failed at run time, and a command line that makes no sense
// (a flag out of range, a missing input), as CLI11's parse errors.
inline constexpr int kExitFailure = 1;
inline constexpr int kExitUsage = 2;

// Prints "anser: error: MESSAGE" to stderr and returns kExitFailure.
int Fail(const std::string& message);
// The same for a usage error: returns kExitUsage.
int FailUsage(const std::string& message);

// Loads a model from a .pth file, a Hugging Face folder or a GGUF file, with a message saying
// what to pass when the path is wrong.
Result<std::shared_ptr<const Model>> OpenModel(const std::string& path,
                                               WeightLayout layout = WeightLayout::kKernels);

// The model `generate` and `chat` run without -m: Anser's own byte-level Shakespeare model,
// found installed beside the executable (../share/anser/default.pth) or in the source tree the
// binary was built from. "" when neither exists.
std::string DefaultModelPath();
// `model` when given, else DefaultModelPath(), else an error saying to pass -m.
Result<std::string> ModelOrDefault(const std::string& model);

// The tokenizer of `model` (see TokenizerForModel); nullptr for vocabularies without one.
Result<std::unique_ptr<Tokenizer>> OpenTokenizer(const std::string& model_path, const Model& model,
                                                 const std::string& vocab_flag);

// Parses "1,2,3" (spaces allowed around ids; "" is the empty list).
Result<std::vector<int>> ParseIds(const std::string& text);
// Checks every id against the vocabulary; the error names the first bad one.
Status CheckIds(const std::vector<int>& ids, int n_vocab);

// The bytes of a file, or of stdin when `path` is "-".
Result<std::string> ReadInput(const std::string& path);

// Writes bytes to stdout at once (streamed text must appear as it is generated).
void WriteOut(const std::string& bytes);

// Session::Prefill of `tokens` with a progress bar (on a terminal) for prompts long enough to
// take a while; the result is bitwise that of one call (prefill does not depend on its split).
void PrefillWithProgress(Session& session, State& state, std::span<const int> tokens,
                         std::vector<float>* last_logits);

// Whether stdout is a terminal, or the same file as stderr (2>&1): then a line on stderr must
// not start where the text on stdout stopped.
bool StdoutSharesStderrLine();

// Registers --threads on a subcommand that runs the model.
void AddThreadsFlag(CLI::App* sub, int* threads);
// Registers --ablate and --iclr-mult, the model switches of a new model (ModelVariant).
void AddVariantFlags(CLI::App* sub, std::string* ablate, double* iclr_mult);
// ", ablate delta+no-bonus, iclr-mult 2" for a model with switches; "" for plain x070.
std::string VariantNote(const ModelVariant& variant);
// Registers the sampling flags of generate and chat, with `options` holding the defaults.
// `*seed_option` is set to --seed, whose count() tells whether the user gave one.
void AddSamplingFlags(CLI::App* sub, SamplerOptions* options, CLI::Option** seed_option);
// A seed from the clock and std::random_device when the user gave none.
uint64_t RandomSeed();

// Peak resident set size of this process in bytes (0 if unknown).
int64_t PeakRssBytes();

// For the training commands: freed memory stays with the process for the next allocation. A
// training step frees and allocates the same large activation buffers every step; glibc would
// hand them back to the kernel (mmap threshold, heap trimming), so each step faulted in and
// zeroed them again: a fifth of an L4 C128 step's CPU time.
void KeepFreedMemoryForReuse();

// Seconds since `start` on the steady clock.
double SecondsSince(std::chrono::steady_clock::time_point start);

// A one-line progress bar on stderr, redrawn at most ten times a second when stderr is a
// terminal and silent otherwise (so logs and tests see only the final summary lines).
class ProgressBar {
 public:
  ProgressBar(std::string label, int64_t total);
  ~ProgressBar();
  ProgressBar(const ProgressBar&) = delete;
  ProgressBar& operator=(const ProgressBar&) = delete;

  // `done` items of `total`; `note` is shown after the count (e.g. a running metric).
  void Update(int64_t done, const std::string& note = "");
  // Ends the line (when one was drawn).
  void Finish();

 private:
  void Draw(int64_t done, const std::string& note);

  std::string label_;
  int64_t total_;
  bool enabled_;
  bool drawn_ = false;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_draw_;
};

}  // namespace anser::cli
