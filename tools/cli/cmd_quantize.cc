// anser quantize: a model to a stored type (quantized types as GGUF only).
#include <memory>
#include <string>

#include "common.h"
#include "model/ggml_target.h"

namespace anser::cli {
namespace {

struct QuantizeArgs {
  ConversionInput input;
  std::string out;
  std::string dtype;
  std::string vocab;
  std::string imatrix;
  bool force = false;
};

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
  sub->add_flag("--force", args->force, "Overwrite OUT if it exists");
  return {sub, [args] {
            return RunConversion(args->input, args->out, args->dtype, args->vocab, args->force, args->imatrix);
          }};
}

}  // namespace anser::cli
