// anser bench: prefill and decode speed on random weights of an official shape, or on a file.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "common.h"
#include "flag_checks.h"
#include "kernels/kernels.h"
#include "kernels/roofline.h"

namespace anser::cli {
namespace {

struct BenchArgs {
  std::string shape;
  std::string model;
  std::string dtype = "bf16";
  int prompt = 512;
  int gen = 128;
  int batch = 1;
  bool roofline = false;
  int threads = 0;
  int reps = 3;
  uint64_t seed = 1;
  std::string format = "text";
};

double Median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  const size_t n = values.size();
  return n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

// The dtype most tensors of a loaded model are stored in (small vectors may differ).
std::string MainDtype(const Model& model) {
  std::string best;
  int best_count = -1;
  for (const auto& [dtype, count] : model.dtype_counts()) {
    if (count > best_count) best = dtype, best_count = count;
  }
  return best;
}

int RunBench(const BenchArgs& a) {
  nlohmann::json result;
  std::shared_ptr<const Model> model;
  const int threads = a.threads > 0
                          ? a.threads
                          : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  std::string label;
  if (!a.shape.empty()) {
    auto config = OfficialShape(a.shape);
    if (!config.ok()) return Fail(config.message());
    result["shape"] = a.shape;
    result["params"] = CountParams(*config);
    result["dtype"] = a.dtype;
    label = "shape " + a.shape;
    if (a.prompt > 0 || a.gen > 0) {
      std::fprintf(stderr, "generating random %s weights (%s)...\n", a.shape.c_str(),
                   a.dtype.c_str());
      const auto start = std::chrono::steady_clock::now();
      auto random = Model::Random(*config, a.dtype, a.seed);
      if (!random.ok()) return Fail(random.message());
      model = std::move(*random);
      result["weights_s"] = SecondsSince(start);
    }
  } else {
    auto loaded = OpenModel(a.model);
    if (!loaded.ok()) return Fail(loaded.message());
    model = std::move(*loaded);
    result["model"] = a.model;
    result["params"] = model->params();
    result["dtype"] = MainDtype(*model);
    label = a.model;
  }
  result["threads"] = threads;
  result["kernels"] = SelectKernels().name;
  result["prompt"] = a.prompt;
  result["gen"] = a.gen;
  result["reps"] = a.reps;
  result["batch"] = a.batch;

  std::vector<double> prefill_tok_s, decode_tok_s, batch_tok_s;
  if (model != nullptr) {
    const ModelConfig& config = model->config();
    result["n_layer"] = config.n_layer;
    result["n_embd"] = config.n_embd;
    result["weight_bytes"] = model->weight_bytes();
    result["weight_bytes_per_token"] = model->weight_bytes_per_token();
    std::mt19937_64 rng(a.seed);
    std::uniform_int_distribution<int> pick(1, config.n_vocab - 1);
    std::vector<int> prompt(static_cast<size_t>(a.prompt)), gen(static_cast<size_t>(a.gen));
    for (int& t : prompt) t = pick(rng);
    for (int& t : gen) t = pick(rng);

    Session session(model, SessionOptions{a.threads});
    State state(config);
    std::vector<float> logits;
    std::vector<State> batch_states(static_cast<size_t>(a.batch > 1 ? a.batch : 0), State(config));
    std::vector<State*> batch_ptrs;
    for (State& st : batch_states) batch_ptrs.push_back(&st);
    std::vector<int> batch_tokens(batch_ptrs.size());
    for (int r = 0; r < a.reps; ++r) {
      state.Reset();
      if (a.prompt > 0) {
        const auto start = std::chrono::steady_clock::now();
        session.Prefill(state, prompt, /*all_positions=*/false, &logits);
        prefill_tok_s.push_back(a.prompt / SecondsSince(start));
      }
      if (a.gen > 0) {
        const auto start = std::chrono::steady_clock::now();
        for (const int t : gen) session.Step(state, t);
        decode_tok_s.push_back(a.gen / SecondsSince(start));
      }
      if (a.gen > 0 && !batch_ptrs.empty()) {
        for (State& st : batch_states) st.Reset();
        const auto start = std::chrono::steady_clock::now();
        for (int step = 0; step < a.gen; ++step) {
          for (size_t b = 0; b < batch_tokens.size(); ++b) {
            batch_tokens[b] = gen[(static_cast<size_t>(step) + b) % gen.size()];
          }
          session.StepBatch(batch_ptrs, batch_tokens, &logits);
        }
        batch_tok_s.push_back(static_cast<double>(a.gen) * a.batch / SecondsSince(start));
      }
      std::fprintf(stderr, "rep %d/%d: prefill %.1f tok/s, decode %.1f tok/s", r + 1, a.reps,
                   prefill_tok_s.empty() ? 0.0 : prefill_tok_s.back(),
                   decode_tok_s.empty() ? 0.0 : decode_tok_s.back());
      if (!batch_tok_s.empty()) std::fprintf(stderr, ", batch of %d %.1f tok/s", a.batch, batch_tok_s.back());
      std::fprintf(stderr, "\n");
    }
  }
  const auto put = [&](const char* name, const std::vector<double>& values) {
    result[std::string(name)] =
        values.empty() ? nlohmann::json(nullptr) : nlohmann::json(Median(values));
    result[std::string(name) + "_best"] =
        values.empty() ? nlohmann::json(nullptr)
                       : nlohmann::json(*std::max_element(values.begin(), values.end()));
  };
  put("prefill_tok_s", prefill_tok_s);
  put("decode_tok_s", decode_tok_s);
  put("batch_tok_s", a.batch > 1 ? batch_tok_s : decode_tok_s);
  if (model != nullptr) {
    // Decode streams the weights once per token; prefill does 2 FLOP per weight of the
    // projections for every token and runs the head once (the WKV and element-wise work,
    // a few percent, are left out).
    const ModelConfig& c = model->config();
    const double head = 2.0 * c.n_vocab * c.n_embd;
    const double flop_per_token =
        2.0 * static_cast<double>(model->params()) - 2.0 * head + (a.prompt > 0 ? head / a.prompt : 0.0);
    result["decode_gb_s"] = decode_tok_s.empty() ? nlohmann::json(nullptr)
                                                 : nlohmann::json(result["decode_tok_s"].get<double>() *
                                                                  static_cast<double>(model->weight_bytes_per_token()) / 1e9);
    result["prefill_gflop_s"] = prefill_tok_s.empty() ? nlohmann::json(nullptr)
                                                      : nlohmann::json(result["prefill_tok_s"].get<double>() *
                                                                       flop_per_token / 1e9);
  }
  result["peak_rss_bytes"] = PeakRssBytes();  // before the roofline's 512 MiB buffer
  if (a.roofline) {
    std::fprintf(stderr, "measuring this machine's read bandwidth and peak FMA throughput...\n");
    const Roofline roof = MeasureRoofline();
    result["roofline"] = {{"read_gb_s", roof.read_gb_s}, {"peak_gflop_s", roof.peak_gflop_s}, {"isa", roof.isa}};
    if (result.contains("decode_gb_s") && !result["decode_gb_s"].is_null()) {
      result["decode_roofline_fraction"] = result["decode_gb_s"].get<double>() / roof.read_gb_s;
    }
    if (result.contains("prefill_gflop_s") && !result["prefill_gflop_s"].is_null()) {
      result["prefill_peak_fraction"] = result["prefill_gflop_s"].get<double>() / roof.peak_gflop_s;
    }
  }

  if (a.format == "json") {
    WriteOut(result.dump(2) + "\n");
    return 0;
  }
  std::printf("%s: %lld params (%.1fM), %s, %d threads, %s kernels\n", label.c_str(),
              static_cast<long long>(result["params"].get<int64_t>()),
              static_cast<double>(result["params"].get<int64_t>()) / 1e6,
              result["dtype"].get<std::string>().c_str(), threads, SelectKernels().name);
  if (!prefill_tok_s.empty()) {
    std::printf("prefill %d tokens: %.1f tok/s median, %.1f best of %d\n", a.prompt,
                result["prefill_tok_s"].get<double>(), result["prefill_tok_s_best"].get<double>(),
                a.reps);
  }
  if (!decode_tok_s.empty()) {
    std::printf("decode %d tokens: %.1f tok/s median, %.1f best of %d\n", a.gen,
                result["decode_tok_s"].get<double>(), result["decode_tok_s_best"].get<double>(),
                a.reps);
  }
  if (a.batch > 1 && !batch_tok_s.empty()) {
    std::printf("batched decode, %d sequences: %.1f tok/s in all (median)\n", a.batch,
                result["batch_tok_s"].get<double>());
  }
  if (result.contains("decode_gb_s") && !result["decode_gb_s"].is_null()) {
    std::printf("decode streams %.1f MB/token: %.1f GB/s\n",
                static_cast<double>(model->weight_bytes_per_token()) / 1e6, result["decode_gb_s"].get<double>());
  }
  if (result.contains("prefill_gflop_s") && !result["prefill_gflop_s"].is_null()) {
    std::printf("prefill: %.1f GFLOP/s\n", result["prefill_gflop_s"].get<double>());
  }
  if (a.roofline) {
    const auto& roof = result["roofline"];
    std::printf("roofline (%s): read %.1f GB/s, peak %.1f GFLOP/s", roof["isa"].get<std::string>().c_str(),
                roof["read_gb_s"].get<double>(), roof["peak_gflop_s"].get<double>());
    if (result.contains("decode_roofline_fraction")) {
      std::printf("; decode at %.0f %% of bandwidth", 100 * result["decode_roofline_fraction"].get<double>());
    }
    if (result.contains("prefill_peak_fraction")) {
      std::printf("; prefill at %.0f %% of peak FMA", 100 * result["prefill_peak_fraction"].get<double>());
    }
    std::printf("\n");
  }
  std::printf("peak RSS: %.1f MiB\n", static_cast<double>(result["peak_rss_bytes"].get<int64_t>()) / (1024.0 * 1024.0));
  return 0;
}

}  // namespace

Command AddBench(CLI::App& app) {
  auto args = std::make_shared<BenchArgs>();
  CLI::App* sub = app.add_subcommand(
      "bench",
      "Prefill and decode tokens/s on random weights of an official shape (--shape) or a model "
      "file (--model); with --prompt 0 --gen 0 only the parameter count");
  CLI::Option* shape = sub->add_option("--shape", args->shape, "Official shape of random weights")
                           ->check(CLI::IsMember({"0.1b", "0.4b", "1.5b", "2.9b"}));
  CLI::Option* model =
      sub->add_option("-m,--model", args->model, "Model file or Hugging Face folder")
          ->type_name("MODEL");
  shape->excludes(model);
  sub->add_option(
         "--dtype", args->dtype,
         "Storage dtype of the random weights (--shape only; any case; each runs as stored)")
      ->transform(CLI::IsMember(StoredTypeNames(), CLI::ignore_case))
      ->needs(shape)
      ->capture_default_str();
  sub->add_option("--prompt", args->prompt, "Prompt tokens to prefill")
      ->check(WholeInRange(0))
      ->capture_default_str();
  sub->add_option("--gen", args->gen, "Tokens to decode one at a time")
      ->check(WholeInRange(0))
      ->capture_default_str();
  sub->add_option("--batch", args->batch,
                  "Also decode this many sequences together (batch_tok_s: aggregate tokens/s)")
      ->check(WholeInRange(1, 4096))
      ->capture_default_str();
  sub->add_flag("--roofline", args->roofline,
                "Measure this machine's read bandwidth and peak FMA throughput and report the "
                "results as fractions of them");
  sub->add_option("--reps", args->reps, "Repetitions (medians and bests are reported)")
      ->check(WholeInRange(1, 1000))
      ->capture_default_str();
  sub->add_option("--seed", args->seed, "Seed of the random weights and tokens")
      ->check(UnsignedWhole())
      ->capture_default_str();
  sub->add_option("--format", args->format, "Output format")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();
  AddThreadsFlag(sub, &args->threads);
  return {sub, [args, shape, model] {
            if (shape->count() == 0 && model->count() == 0) {
              return FailUsage("bench needs --shape 0.1b|0.4b|1.5b|2.9b or --model FILE");
            }
            return RunBench(*args);
          }};
}

}  // namespace anser::cli
