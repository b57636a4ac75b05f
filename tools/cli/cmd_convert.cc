// anser convert: a model to another format (GGUF, .pth, Hugging Face folder), keeping its
// stored types; also the conversion runner `anser quantize` shares.
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <system_error>

#include "common.h"
#include "model/convert.h"

namespace anser::cli {
namespace {

struct ConvertArgs {
  std::string in;
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

int RunConversion(const std::string& in, const std::string& out, const std::string& dtype,
                  const std::string& vocab, bool force) {
  std::error_code ec;
  if (std::filesystem::exists(out, ec) && !force) {
    return Fail("'" + out + "' exists: pass --force to overwrite it");
  }
  ConvertOptions options;
  if (!dtype.empty()) {
    options.dtype = ParseConvertDType(dtype);
    if (!options.dtype)
      return Fail("unknown --dtype '" + dtype +
                  "': choose f32, f16, bf16, q8_0, q5_0, q4_0 or q4_1");
  }
  const ModelFormat format = FormatForPath(out);
  if (options.dtype && DTypeIsBlock(*options.dtype) && format != ModelFormat::kGguf) {
    return Fail("--dtype " + dtype +
                " is a quantized type, written as GGUF only: name the output *.gguf");
  }
  const auto start = std::chrono::steady_clock::now();
  auto model = OpenModel(in);
  if (!model.ok()) return Fail(model.message());
  std::unique_ptr<Tokenizer> tokenizer;
  if (format == ModelFormat::kGguf) {
    // GGUF files carry their vocabulary (llama.cpp tokenizes with it).
    auto t = OpenTokenizer(in, **model, vocab);
    if (!t.ok()) return Fail(t.message());
    tokenizer = std::move(t).value();
    options.tokenizer = tokenizer.get();
  }
  options.name = std::filesystem::path(in).stem().string();
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
  sub->add_option("IN", args->in, "Model: .pth, .gguf or Hugging Face folder")->required();
  sub->add_option("OUT", args->out, "Output: *.gguf, *.pth, otherwise a Hugging Face folder")
      ->required();
  sub->add_option("--vocab", args->vocab, "World vocabulary file to embed in a GGUF of a 65536-token model");
  sub->add_flag("--force", args->force, "Overwrite OUT if it exists");
  return {sub, [args] { return RunConversion(args->in, args->out, "", args->vocab, args->force); }};
}

}  // namespace anser::cli
