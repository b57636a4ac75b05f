// anser imatrix: an importance matrix of a model on a text, in llama.cpp's GGUF imatrix format
// (what `anser quantize --imatrix` and `llama-quantize --imatrix` take).
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <system_error>
#include <vector>

#include "common.h"
#include "flag_checks.h"
#include "io/imatrix_file.h"
#include "model/activation_stats.h"

namespace anser::cli {
namespace {

struct ImatrixArgs {
  std::string model;
  std::string vocab;
  std::string text_file;
  std::string out;
  int ctx = 512;
  int chunks = 0;
  bool force = false;
  int threads = 0;
};

int RunImatrix(const ImatrixArgs& a) {
  std::error_code ec;
  if (std::filesystem::exists(a.out, ec) && !a.force) return Fail("'" + a.out + "' exists: pass --force to overwrite it");
  auto model = OpenModel(a.model);
  if (!model.ok()) return Fail(model.message());
  auto tokenizer = OpenTokenizer(a.model, **model, a.vocab);
  if (!tokenizer.ok()) return Fail(tokenizer.message());
  if (*tokenizer == nullptr) {
    return Fail("imatrix needs a tokenizer, and a model with " + std::to_string((*model)->config().n_vocab) +
                " tokens has none");
  }
  auto text = ReadInput(a.text_file);
  if (!text.ok()) return Fail(text.message());
  const std::vector<int> tokens = (**tokenizer).Encode(*text);
  // Chunks of --ctx tokens, each from the zero state, as llama-imatrix runs them.
  int64_t chunks = static_cast<int64_t>(tokens.size()) / a.ctx;
  if (a.chunks > 0) chunks = std::min<int64_t>(chunks, a.chunks);
  if (chunks == 0) {
    return Fail("'" + a.text_file + "' has " + std::to_string(tokens.size()) + " tokens, fewer than one chunk of --ctx " +
                std::to_string(a.ctx) + ": give a longer text or a smaller --ctx");
  }
  Session session(*model, SessionOptions{a.threads});
  ActivationStats stats;
  session.CollectActivations(&stats);
  State state((*model)->config());
  std::vector<float> logits;
  ProgressBar bar("imatrix", chunks);
  for (int64_t c = 0; c < chunks; ++c) {
    state.Reset();
    session.Prefill(state, std::span<const int>(tokens).subspan(static_cast<size_t>(c * a.ctx), a.ctx),
                    /*all_positions=*/true, &logits);
    bar.Update(c + 1);
  }
  bar.Finish();
  Imatrix imatrix = stats.ToImatrix();
  imatrix.datasets = {a.text_file};
  imatrix.chunk_count = static_cast<uint32_t>(chunks);
  imatrix.chunk_size = static_cast<uint32_t>(a.ctx);
  const Status saved = SaveImatrix(a.out, imatrix);
  if (!saved.ok()) return Fail(saved.message());
  std::fprintf(stderr, "wrote %s: %zu matrices, %lld chunks of %d tokens\n", a.out.c_str(), imatrix.entries.size(),
               static_cast<long long>(chunks), a.ctx);
  return 0;
}

}  // namespace

Command AddImatrix(CLI::App& app) {
  auto args = std::make_shared<ImatrixArgs>();
  CLI::App* sub = app.add_subcommand(
      "imatrix", "Collect an importance matrix (llama.cpp's GGUF imatrix format) for quantize --imatrix");
  sub->add_option("-m,--model", args->model, "Model to run (the one you will quantize)")->type_name("MODEL")->required();
  sub->add_option("--text-file", args->text_file, "Calibration text ('-' = stdin)")->type_name("FILE")->required();
  sub->add_option("--out", args->out, "Output file (GGUF)")->type_name("FILE")->required();
  sub->add_option("--vocab", args->vocab, "World vocabulary file (as for generate)")->type_name("FILE");
  sub->add_option("--ctx", args->ctx, "Tokens a chunk; each chunk starts from the zero state")
      ->check(WholeInRange(1, 1 << 20))
      ->capture_default_str();
  sub->add_option("--chunks", args->chunks, "At most this many chunks (0 = all the text gives)")
      ->check(WholeInRange(0))
      ->capture_default_str();
  sub->add_flag("--force", args->force, "Overwrite --out if it exists");
  AddThreadsFlag(sub, &args->threads);
  return {sub, [args] { return RunImatrix(*args); }};
}

}  // namespace anser::cli
