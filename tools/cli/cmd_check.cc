// anser check: scans every tensor of a model for NaN, ±Inf and absurd magnitudes.
#include <unistd.h>

#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "common.h"
#include "model/tensor_scan.h"
#include "model/weights.h"

namespace anser::cli {
namespace {

struct CheckArgs {
  std::string model;
  std::string format = "text";
};

int RunCheck(const CheckArgs& a) {
  // The stored layout: the tensors as in the file, never repacked.
  auto model = OpenModel(a.model, WeightLayout::kStored);
  if (!model.ok()) return Fail(model.message());
  const TensorStore& store = (*model)->weights().store();
  const bool tty = isatty(STDERR_FILENO) != 0;
  const std::vector<TensorScan> scans = ScanTensors(store, [&](size_t done, size_t total) {
    if (tty) std::fprintf(stderr, "\rscanning %zu/%zu tensors", done, total);
  });
  if (tty) std::fputc('\n', stderr);
  int findings = 0;
  for (const TensorScan& s : scans) findings += s.finding() ? 1 : 0;

  if (a.format == "json") {
    nlohmann::json tensors = nlohmann::json::array();
    for (const TensorScan& s : scans) {
      tensors.push_back({{"name", s.name},
                         {"dtype", std::string(DTypeName(s.dtype))},
                         {"nan", s.nan},
                         {"inf", s.inf},
                         {"max_abs", s.max_abs}});
    }
    const nlohmann::json j = {
        {"model", a.model},
        {"tensors", tensors},
        {"findings", findings},
        {"thresholds", {{"weight", kMaxAbsWeight}, {"embedding", kMaxAbsEmbedding}}}};
    WriteOut(j.dump(2) + "\n");
  } else {
    std::string out;
    char line[512];
    for (const TensorScan& s : scans) {
      std::snprintf(line, sizeof line, "%-40s %-5s nan %-8lld inf %-8lld max_abs %-12.6g%s\n",
                    s.name.c_str(), std::string(DTypeName(s.dtype)).c_str(),
                    static_cast<long long>(s.nan), static_cast<long long>(s.inf), s.max_abs,
                    s.finding() ? "  FINDING" : "");
      out += line;
    }
    std::snprintf(line, sizeof line,
                  "%zu tensors scanned, %d with findings (limits: |x| <= %g, embedding %g)\n",
                  scans.size(), findings, kMaxAbsWeight, kMaxAbsEmbedding);
    WriteOut(out + line);
  }
  return findings > 0 ? 1 : 0;
}

}  // namespace

Command AddCheck(CLI::App& app) {
  auto args = std::make_shared<CheckArgs>();
  CLI::App* sub = app.add_subcommand("check",
                                     "Scan every tensor for NaN, Inf and absurd magnitudes (|x| > "
                                     "1e4, embedding > 1e6); exit 1 on any finding");
  sub->add_option("-m,--model", args->model,
                  "Model: an RWKV-7 .pth/.gguf file or a Hugging Face folder")
      ->type_name("MODEL")
      ->required();
  sub->add_option("--format", args->format, "Output format")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();
  return {sub, [args] { return RunCheck(*args); }};
}

}  // namespace anser::cli
