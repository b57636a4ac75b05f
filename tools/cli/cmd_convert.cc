// anser convert: a model to another format (GGUF, .pth, Hugging Face folder), keeping its
// stored types; also the conversion runner `anser quantize` shares.
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <system_error>
#include <vector>

#include "common.h"
#include "flag_checks.h"
#include "io/imatrix_file.h"
#include "model/convert.h"

namespace anser::cli {
namespace {

struct ConvertArgs {
  ConversionInput input;
  std::string out;
  std::string vocab;
  bool force = false;
};

// Total bytes of a file, or of the files in a folder.
uint64_t SizeOnDisk(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::is_directory(path, ec)) return fs::file_size(path, ec);
  uint64_t total = 0;
  for (const auto& entry : fs::directory_iterator(path, ec)) {
    if (entry.is_regular_file(ec)) total += entry.file_size(ec);
  }
  return total;
}

}  // namespace

std::vector<std::string> StoredTypeNames() {
  std::vector<std::string> names = {"f32", "f16", "bf16", "q8_0", "q5_0", "q4_0", "q4_1"};
  for (std::string& n : GgmlTargetNameList()) names.push_back(std::move(n));
  return names;
}

void AddConversionInput(CLI::App* sub, ConversionInput* input, std::string* out) {
  sub->add_option("IN", input->path, "Model: .pth, .gguf or Hugging Face folder (omitted with --shape)");
  sub->add_option("OUT", *out, "Output: *.gguf, *.pth, otherwise a Hugging Face folder");
  sub->add_option("--shape", input->shape,
                  "Instead of IN, random weights of an official shape (to run other engines on "
                  "the model `anser bench --shape` measures)")
      ->check(CLI::IsMember({"0.1b", "0.4b", "1.5b", "2.9b"}));
  sub->add_option("--seed", input->seed, "Seed of the --shape weights (as `anser bench --seed`)")
      ->check(UnsignedWhole())
      ->capture_default_str();
}

int RunConversion(ConversionInput input, std::string out, const std::string& dtype,
                  const std::string& vocab, bool force, const std::string& imatrix,
                  const CpuKernels* pack_for) {
  // CLI11 fills the positionals in order, so `--shape S OUT` arrives as IN.
  if (!input.shape.empty()) {
    if (!out.empty()) return Fail("with --shape, give only OUT (the weights are generated, not read)");
    out = std::move(input.path);
    input.path.clear();
  } else if (out.empty()) {
    return Fail("give IN and OUT (or --shape NAME and OUT)");
  }
  std::error_code ec;
  if (std::filesystem::exists(out, ec) && !force) {
    return Fail("'" + out + "' exists: pass --force to overwrite it");
  }
  ConvertOptions options;
  if (!dtype.empty()) {
    options.dtype = ParseConvertDType(dtype);
    if (!options.dtype) options.ggml_target = ParseGgmlTarget(dtype);
    if (!options.dtype && !options.ggml_target)
      return Fail("unknown --dtype '" + dtype + "': choose f32, f16, bf16, q8_0, q5_0, q4_0, q4_1, " +
                  GgmlTargetNames());
  }
  options.notice = [](const std::string& message) { std::fprintf(stderr, "note: %s\n", message.c_str()); };
  std::map<std::string, std::vector<float>> importance;
  if (!imatrix.empty()) {
    if (!options.ggml_target) {
      return FailUsage("--imatrix steers the llama.cpp types (" + GgmlTargetNames() + "); --dtype " + dtype +
                       " rounds each value to nearest, as GGML's reference quantizer does");
    }
    auto loaded = LoadImatrix(imatrix);
    if (!loaded.ok()) return Fail(loaded.message());
    importance = loaded->Importance();
    options.importance = &importance;
    std::fprintf(stderr, "importance matrix %s: %zu matrices, %u chunks\n", imatrix.c_str(), importance.size(),
                 loaded->chunk_count);
  }
  const ModelFormat format = FormatForPath(out);
  if (((options.dtype && DTypeIsBlock(*options.dtype)) || options.ggml_target) && format != ModelFormat::kGguf) {
    return Fail("--dtype " + dtype +
                " is a quantized type, written as GGUF only: name the output *.gguf");
  }
  if (pack_for != nullptr && format != ModelFormat::kGguf) {
    return Fail("--layout packed writes GGUF only: name the output *.gguf");
  }
  if (pack_for != nullptr && PackedLayout(*pack_for) == MatLayout::kRows) {
    return Fail("the " + std::string(pack_for->name) +
                " kernel table reads every matrix as stored: it has no packed layout (--kernels "
                "avx2, avxvnni or avx512)");
  }
  options.pack_for = pack_for;
  const auto start = std::chrono::steady_clock::now();
  Result<std::shared_ptr<const Model>> model = Status::Error("no model");
  if (input.shape.empty()) {
    model = OpenModel(input.path, WeightLayout::kStored);
  } else {
    auto config = OfficialShape(input.shape);
    if (!config.ok()) return Fail(config.message());
    // Generated in the output's type (or bf16, as official files store), so --dtype f16
    // writes exactly the weights `anser bench --shape S --dtype f16` runs.
    const std::string stored = dtype.empty() || !ParseConvertDType(dtype) ? "bf16" : dtype;
    std::fprintf(stderr, "generating random %s weights (%s)...\n", input.shape.c_str(), stored.c_str());
    model = Model::Random(*config, stored, input.seed, WeightLayout::kStored);
  }
  if (!model.ok()) return Fail(model.message());
  std::unique_ptr<Tokenizer> tokenizer;
  if (format == ModelFormat::kGguf) {
    // GGUF files carry their vocabulary (llama.cpp tokenizes with it).
    auto t = OpenTokenizer(input.path, **model, vocab);
    if (!t.ok()) return Fail(t.message());
    tokenizer = std::move(t).value();
    options.tokenizer = tokenizer.get();
  }
  options.name = input.shape.empty() ? std::filesystem::path(input.path).stem().string()
                                     : "rwkv7-random-" + input.shape;
  // The tensor count is known once SaveModel has planned the output.
  std::unique_ptr<ProgressBar> bar;
  options.progress = [&bar](size_t done, size_t total) {
    if (!bar) bar = std::make_unique<ProgressBar>("writing", static_cast<int64_t>(total));
    bar->Update(static_cast<int64_t>(done));
  };
  const Status s = SaveModel(**model, out, options);
  if (bar) bar->Finish();
  if (!s.ok()) return Fail(s.message());
  std::fprintf(stderr, "wrote %s (%.1f MiB%s%s) in %.1f s\n", out.c_str(),
               static_cast<double>(SizeOnDisk(out)) / (1024.0 * 1024.0), dtype.empty() ? "" : ", ",
               dtype.c_str(), SecondsSince(start));
  return 0;
}

Command AddConvert(CLI::App& app) {
  auto args = std::make_shared<ConvertArgs>();
  CLI::App* sub = app.add_subcommand("convert",
                                     "Write a model in another format, keeping its stored types "
                                     "(OUT: *.gguf, *.pth, or a folder)");
  AddConversionInput(sub, &args->input, &args->out);
  sub->add_option("--vocab", args->vocab, "World vocabulary file to embed in a GGUF of a 65536-token model");
  sub->add_flag("--force", args->force, "Overwrite OUT if it exists");
  return {sub, [args] { return RunConversion(args->input, args->out, "", args->vocab, args->force); }};
}

}  // namespace anser::cli
