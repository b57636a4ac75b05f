// anser quantize: a model to a stored type (quantized types as GGUF only), in the standard
// layout or packed for a kernel table.
#include <memory>
#include <string>

#include "common.h"
#include "kernels/kernels.h"
#include "model/ggml_target.h"

namespace anser::cli {
namespace {

struct QuantizeArgs {
  ConversionInput input;
  std::string out;
  std::string dtype;
  std::string vocab;
  std::string imatrix;
  std::string layout = "stored";
  std::string kernels;
  bool force = false;
};

int RunQuantize(const QuantizeArgs& a) {
  if (a.layout != "packed") {
    if (!a.kernels.empty()) return FailUsage("--kernels names the table of --layout packed");
    return RunConversion(a.input, a.out, a.dtype, a.vocab, a.force, a.imatrix);
  }
  const CpuKernels* table = &ChosenKernels();
  if (!a.kernels.empty()) {
    auto found = FindKernels(a.kernels);
    if (!found.ok()) return Fail(found.message());
    table = *found;
  }
  return RunConversion(a.input, a.out, a.dtype, a.vocab, a.force, a.imatrix, table);
}

}  // namespace

Command AddQuantize(CLI::App& app) {
  auto args = std::make_shared<QuantizeArgs>();
  CLI::App* sub = app.add_subcommand(
      "quantize", "Write a model with its weights in another type (quantized types as *.gguf only)");
  AddConversionInput(sub, &args->input, &args->out);
  sub->add_option("--dtype", args->dtype,
                  "Stored type of the weights (any case): f32, f16, bf16, q8_0, q5_0, q4_0, q4_1, "
                  "or for llama.cpp " + GgmlTargetNames() + " (docs/FORMATS.md)")
      ->required()
      ->transform(CLI::IsMember(StoredTypeNames(), CLI::ignore_case));
  sub->add_option("--vocab", args->vocab, "World vocabulary file to embed in a GGUF of a 65536-token model");
  sub->add_option("--imatrix", args->imatrix,
                  "Importance matrix (anser imatrix, or llama-imatrix's GGUF or .dat) steering the llama.cpp types")
      ->type_name("FILE");
  sub->add_option("--layout", args->layout,
                  "stored: the standard GGUF llama.cpp reads; packed: the block-quantized "
                  "projections and head as the kernel table packs them (architecture "
                  "anser-rwkv7-packed, which llama.cpp refuses): loaded with a table of the same "
                  "layout, they are read in place from the file, shared by every process running "
                  "it (docs/FORMATS.md)")
      ->check(CLI::IsMember({"stored", "packed"}))
      ->capture_default_str();
  sub->add_option("--kernels", args->kernels,
                  "With --layout packed: the table to pack for (avx2, avxvnni, avx512; default: "
                  "the one this machine runs, or $ANSER_KERNELS)")
      ->type_name("NAME");
  sub->add_flag("--force", args->force, "Overwrite OUT if it exists");
  return {sub, [args] { return RunQuantize(*args); }};
}

}  // namespace anser::cli
