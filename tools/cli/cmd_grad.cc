// anser grad: the mean cross-entropy of one batch and its gradient with respect to every
// parameter (or, with --state-tuning, to the initial WKV state), written as a `.pth` dict.
#include <algorithm>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "common.h"
#include "train/grad.h"

namespace anser::cli {
namespace {

struct GradArgs {
  std::string model;
  std::string batch;
  std::string out;
  std::string state_tuning;
  int threads = 0;
};

int RunGrad(const GradArgs& a) {
  auto model = OpenModel(a.model, WeightLayout::kStored);
  if (!model.ok()) return Fail(model.message());
  const ParamSet params = ParamsFromModel(**model);
  auto batch = ReadBatchJson(a.batch);
  if (!batch.ok()) return Fail(batch.message());
  const Status valid = ValidateBatch(batch.value(), params.config().n_vocab);
  if (!valid.ok()) return Fail(valid.message() + " in " + a.batch);
  GradOptions options;
  options.threads = a.threads > 0
                        ? a.threads
                        : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  double loss = 0;
  if (!a.state_tuning.empty()) {
    auto init = LoadInitState(a.state_tuning, params.config());
    if (!init.ok()) return Fail(init.message());
    std::vector<float> grad;
    auto l = ComputeStateGradient(params, batch.value(), init.value(), options, &grad);
    if (!l.ok()) return Fail(l.message());
    loss = l.value();
    const Status saved = SaveStateGradient(a.out, grad, params.config());
    if (!saved.ok()) return Fail(saved.message());
  } else {
    ParamSet grads = params.ZerosLike();
    auto l = ComputeGradients(params, batch.value(), options, &grads);
    if (!l.ok()) return Fail(l.message());
    loss = l.value();
    const Status saved = SaveGradients(a.out, grads);
    if (!saved.ok()) return Fail(saved.message());
  }
  // nlohmann::json prints doubles with round-trip precision (17 significant digits).
  WriteOut(nlohmann::json{{"loss", loss}}.dump() + "\n");
  return 0;
}

}  // namespace

Command AddGrad(CLI::App& app) {
  auto args = std::make_shared<GradArgs>();
  CLI::App* sub = app.add_subcommand(
      "grad", "Loss (mean cross-entropy) and gradients of one batch, written as a .pth dict");
  sub->add_option("-m,--model", args->model, "Model: an RWKV-7 .pth file or a Hugging Face folder")
      ->required();
  sub->add_option("--batch", args->batch,
                  "BATCH.json: {\"inputs\": [[ids…], …], \"targets\": [[ids…], …]}")
      ->required();
  sub->add_option("--out", args->out,
                  "Where to write the gradients (.pth, float32, the model's names)")
      ->required();
  sub->add_option(
      "--state-tuning", args->state_tuning,
      "INIT.pth holding init_state [n_layer, n_head, head_size, head_size]: freeze the model "
      "and write {\"grad\": …} for that initial state instead");
  AddThreadsFlag(sub, &args->threads);
  return {sub, [args] { return RunGrad(*args); }};
}

}  // namespace anser::cli
