// anser info: the configuration and size of a model; with --system, this build and machine.
#include <cstdio>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "common.h"
#include "kernels/kernels.h"
#include "model/weights.h"
#include "system_report.h"

namespace anser::cli {
namespace {

struct InfoArgs {
  std::string model;
  bool system = false;
  std::string format = "text";
};

int RunSystem(const InfoArgs& a) {
  std::fprintf(stderr, "measuring this machine's read bandwidth and peak FMA throughput...\n");
  const nlohmann::json system = SystemJson();
  WriteOut(a.format == "json" ? system.dump(2) + "\n" : SystemText(system));
  return 0;
}

int RunInfo(const InfoArgs& a) {
  if (a.system) return RunSystem(a);
  auto model = OpenModel(a.model);
  if (!model.ok()) return Fail(model.message());
  const Model& m = **model;
  const ModelConfig& c = m.config();
  const Weights& w = m.weights();
  const std::string layout(MatLayoutName(w.file_layout()));
  if (a.format == "json") {
    nlohmann::json j = {
        {"n_layer", c.n_layer},
        {"n_embd", c.n_embd},
        {"n_head", c.n_head},
        {"head_size", c.head_size},
        {"n_ffn", c.n_ffn},
        {"n_vocab", c.n_vocab},
        {"lora_ranks",
         {{"w", c.lora_ranks.w},
          {"a", c.lora_ranks.a},
          {"v", c.lora_ranks.v},
          {"g", c.lora_ranks.g}}},
        {"params", m.params()},
        {"dtypes", m.dtype_counts()},
        {"converted_at_load", m.converted_dtypes()},
        {"weight_bytes", m.weight_bytes()},
        {"layout", layout},
        {"layout_read_in_place", w.file_layout_in_place()},
        {"variant", c.variant.Name()},
        {"iclr_mult", c.variant.iclr_mult},
    };
    WriteOut(j.dump(2) + "\n");
    return 0;
  }
  std::string dtypes;
  for (const auto& [dtype, count] : m.dtype_counts()) {
    if (!dtypes.empty()) dtypes += ", ";
    dtypes += dtype + " x" + std::to_string(count);
  }
  std::printf(
      "model:      %s\n"
      "layers:     %d\n"
      "width:      %d (n_embd)\n"
      "heads:      %d x %d (n_head x head_size)\n"
      "ffn:        %d\n"
      "vocabulary: %d\n"
      "lora ranks: w %d, a %d, v %d, g %d\n"
      "params:     %lld (%.1fM)\n"
      "weights:    %.1f MiB (%s)\n",
      a.model.c_str(), c.n_layer, c.n_embd, c.n_head, c.head_size, c.n_ffn, c.n_vocab,
      c.lora_ranks.w, c.lora_ranks.a, c.lora_ranks.v, c.lora_ranks.g,
      static_cast<long long>(m.params()), static_cast<double>(m.params()) / 1e6,
      static_cast<double>(m.weight_bytes()) / (1024.0 * 1024.0), dtypes.c_str());
  if (!m.converted_dtypes().empty()) {
    std::map<std::string, std::string> by_target;  // "q8_0" → "q4_K, q6_K"
    for (const auto& [stored, runs_as] : m.converted_dtypes()) {
      std::string& list = by_target[runs_as];
      list += (list.empty() ? "" : ", ") + stored;
    }
    for (const auto& [runs_as, stored] : by_target) {
      std::printf("runs as:    %s (%s converted at load)\n", runs_as.c_str(), stored.c_str());
    }
  }
  if (w.file_layout() != MatLayout::kRows) {
    std::printf("layout:     packed %s, %s the %s kernel table\n", layout.c_str(),
                w.file_layout_in_place() ? "read in place by" : "unpacked at load for",
                SelectKernels().name);
  }
  if (!c.variant.IsDefault()) std::printf("switches:  %s\n", VariantNote(c.variant).substr(2).c_str());
  return 0;
}

}  // namespace

Command AddInfo(CLI::App& app) {
  auto args = std::make_shared<InfoArgs>();
  CLI::App* sub = app.add_subcommand(
      "info",
      "Show a model's configuration, parameter count and dtypes; with --system, this build, the "
      "CPU's features, the kernel table, the cores and the memory bandwidth");
  CLI::Option* model =
      sub->add_option("-m,--model", args->model,
                      "Model: an RWKV-7 .pth/.gguf file or a Hugging Face folder")
          ->type_name("MODEL");
  CLI::Option* system = sub->add_flag(
      "--system", args->system,
      "Instead of a model: what to paste into a bug report (measures bandwidth for a second)");
  model->excludes(system);
  sub->add_option("--format", args->format, "Output format")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();
  return {sub, [args, model, system] {
            if (model->count() == 0 && system->count() == 0) {
              return FailUsage("info needs -m MODEL, or --system for this machine");
            }
            return RunInfo(*args);
          }};
}

}  // namespace anser::cli
