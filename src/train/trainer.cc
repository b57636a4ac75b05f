#include "train/trainer.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "kernels/kernels.h"
#include "train/gemm.h"
#include "train/grad.h"
#include "train/model_file.h"
#include "train/resume_file.h"

namespace anser {
namespace {

using Json = nlohmann::json;

std::string LogPath(const std::string& dir) { return dir + "/log.csv"; }
std::string ResumePath(const std::string& dir) { return dir + "/resume/trainer.bin"; }

// FNV-1a over both parts: a resume must see the same tokens in the same split.
uint64_t CorpusHash(const Corpus& c) {
  uint64_t h = 1469598103934665603ull;
  for (const std::vector<int>* part : {&c.train, &c.validation}) {
    for (int t : *part) {
      h ^= static_cast<uint32_t>(t);
      h *= 1099511628211ull;
    }
    h ^= part->size();
    h *= 1099511628211ull;
  }
  return h;
}

Json ConfigJson(const ModelConfig& c) {
  return {{"n_layer", c.n_layer},     {"n_embd", c.n_embd},       {"n_head", c.n_head},
          {"head_size", c.head_size}, {"n_ffn", c.n_ffn},         {"n_vocab", c.n_vocab},
          {"rank_w", c.lora_ranks.w}, {"rank_a", c.lora_ranks.a}, {"rank_v", c.lora_ranks.v},
          {"rank_g", c.lora_ranks.g}, {"variant", c.variant.Name()},
          {"iclr_mult", c.variant.iclr_mult}};
}

Result<ModelConfig> ConfigFromJson(const Json& j) {
  ModelConfig c;
  c.n_layer = j.at("n_layer"), c.n_embd = j.at("n_embd"), c.n_head = j.at("n_head");
  c.head_size = j.at("head_size"), c.n_ffn = j.at("n_ffn"), c.n_vocab = j.at("n_vocab");
  c.lora_ranks = {j.at("rank_w"), j.at("rank_a"), j.at("rank_v"), j.at("rank_g")};
  // Runs saved before the switches existed are plain x070.
  std::string ablate = j.value("variant", "full");
  std::replace(ablate.begin(), ablate.end(), '+', ',');
  ANSER_ASSIGN_OR_RETURN(c.variant, ParseModelVariant(ablate, j.value("iclr_mult", 1.0)));
  return c;
}

Json OptionsJson(const TrainOptions& o) {
  return {{"steps", o.steps},
          {"batch", o.batch},
          {"ctx", o.ctx},
          {"lr", o.lr},
          {"lr_final", o.lr_final},
          {"warmup", o.warmup},
          {"weight_decay", o.weight_decay},
          {"grad_clip", o.grad_clip},
          {"dropout", o.dropout},
          {"precision", o.bf16_products ? "bf16" : "f32"},
          {"l2wrap", o.l2wrap},
          {"eval_every", o.eval_every},
          {"save_every", o.save_every},
          {"val_tokens", o.val_tokens},
          {"bf16", o.bf16},
          {"tune_state", o.tune_state},
          {"seed", o.seed}};
}

TrainOptions OptionsFromJson(const Json& j) {
  TrainOptions o;
  o.steps = j.at("steps"), o.batch = j.at("batch"), o.ctx = j.at("ctx");
  o.lr = j.at("lr"), o.lr_final = j.at("lr_final"), o.warmup = j.at("warmup");
  o.weight_decay = j.at("weight_decay"), o.grad_clip = j.at("grad_clip"), o.l2wrap = j.at("l2wrap");
  o.dropout = j.value("dropout", 0.0);  // runs saved before dropout existed had none
  o.bf16_products = j.value("precision", "f32") == "bf16";
  o.eval_every = j.at("eval_every"), o.save_every = j.at("save_every"),
  o.val_tokens = j.at("val_tokens");
  o.bf16 = j.at("bf16"), o.tune_state = j.at("tune_state"), o.seed = j.at("seed");
  return o;
}

Json RowJson(const LogRow& r) {
  return Json::array({r.step, r.tokens, r.loss, r.val_loss, r.lr, r.tok_s, r.elapsed_s});
}

LogRow RowFromJson(const Json& j) {
  LogRow r;
  r.step = j.at(0), r.tokens = j.at(1), r.loss = j.at(2), r.val_loss = j.at(3);
  r.lr = j.at(4), r.tok_s = j.at(5), r.elapsed_s = j.at(6);
  return r;
}

Status CheckOptions(const TrainOptions& o, const Corpus& c) {
  if (o.steps <= 0 || o.batch <= 0 || o.ctx <= 0)
    return Status::Error("[train] --steps, --batch and --ctx must be positive");
  if (!(o.lr > 0) || !(o.lr_final >= 0) || o.warmup < 0 || !(o.weight_decay >= 0) ||
      !(o.grad_clip >= 0)) {
    return Status::Error(
        "[train] --lr must be positive; --lr-final, --warmup, --weight-decay, --grad-clip not "
        "negative");
  }
  if (o.eval_every < 0 || o.save_every < 0)
    return Status::Error("[train] --eval-every and --save-every must not be negative");
  if (!(o.dropout >= 0 && o.dropout < 1))
    return Status::Error("[train] --dropout must be in [0, 1)");
  if (o.bf16_products && !Bf16ProductsRun()) {
    return Status::Error(std::string("[train] --precision bf16 needs a CPU with AVX-512 BF16 (its "
                                     "bfloat16 dot product); the '") +
                         SelectKernels().name + "' kernel table here has none: use --precision f32");
  }
  if (static_cast<int64_t>(c.train.size()) <= o.ctx) {
    return Status::Error("[train] the training split has " + std::to_string(c.train.size()) +
                         " tokens; --ctx " + std::to_string(o.ctx) + " needs more than that");
  }
  return Status::Ok();
}

// Sets every tensor of `dst` (same names and shapes, in order) from `values` at `*at`.
Status Unpack(const std::vector<float>& values, size_t* at, std::vector<NamedTensor<float>>& dst) {
  for (NamedTensor<float>& t : dst) {
    if (values.size() - *at < t.data.size())
      return Status::Error("[train] the resume file is truncated");
    std::copy_n(values.begin() + static_cast<std::ptrdiff_t>(*at), t.data.size(), t.data.begin());
    *at += t.data.size();
  }
  return Status::Ok();
}

}  // namespace

Status Trainer::Prepare() {
  if (options_.batch % job_->size() != 0) {
    return Status::Error("[train] --batch " + std::to_string(options_.batch) +
                         " does not divide among the " + std::to_string(job_->size()) +
                         " processes of the job: pass a multiple of " +
                         std::to_string(job_->size()) + " (--batch is the global batch)");
  }
  const ModelConfig& c = params_.config();
  validation_ =
      ValidationBatches(corpus_.validation, options_.batch, options_.ctx, options_.val_tokens);
  if (options_.tune_state) {
    const std::vector<int64_t> shape{c.n_layer, c.n_head, c.head_size, c.head_size};
    if (state_.empty())
      state_.push_back({"init_state", shape,
                        std::vector<float>(static_cast<size_t>(int64_t{c.n_layer} * c.n_head *
                                                               c.head_size * c.head_size))});
    state_grad_ = {{"init_state", shape, std::vector<float>(state_[0].data.size())}};
  } else {
    grads_ = params_.ZerosLike();
  }
  m_.clear();
  for (const NamedTensor<float>& t : trainable())
    m_.push_back({t.name, t.shape, std::vector<float>(t.data.size())});
  v_ = m_;
  start_ = std::chrono::steady_clock::now();
  return Status::Ok();
}

Result<std::unique_ptr<Trainer>> Trainer::Create(ParamSet params, Corpus corpus,
                                                 const TrainOptions& options,
                                                 const std::string& out_dir,
                                                 const std::string& init_path, Distributed* job) {
  ANSER_RETURN_IF_ERROR(CheckOptions(options, corpus));
  if (options.tune_state && init_path.empty()) {
    return Status::Error("[train] state tuning needs the model it tunes for (--init MODEL)");
  }
  std::unique_ptr<Trainer> t(new Trainer());
  if (job != nullptr) t->job_ = job;
  t->options_ = options;
  t->out_dir_ = out_dir;
  t->init_path_ = init_path;
  t->corpus_ = std::move(corpus);
  t->params_ = std::move(params);
  t->rng_ = SplitMix64(options.seed);
  ANSER_RETURN_IF_ERROR(t->Prepare());
  if (!t->writes_files()) return t;
  std::error_code ec;
  std::filesystem::create_directories(out_dir + "/resume", ec);
  if (ec) return Status::Error("[train] cannot create '" + out_dir + "/resume': " + ec.message());
  std::filesystem::remove(ResumePath(out_dir), ec);
  ANSER_RETURN_IF_ERROR(WriteLog(LogPath(out_dir), {}));
  return t;
}

Result<ModelConfig> Trainer::SavedConfig(const std::string& out_dir) {
  ANSER_ASSIGN_OR_RETURN(ResumeFile f, ReadResumeFile(ResumePath(out_dir)));
  const Json meta = Json::parse(f.meta_json, nullptr, false);
  if (meta.is_discarded() || !meta.contains("config")) {
    return Status::Error("[train] the resume file in '" + out_dir + "' has no model configuration");
  }
  return ConfigFromJson(meta.at("config"));
}

Result<std::unique_ptr<Trainer>> Trainer::Resume(const std::string& out_dir, Corpus corpus,
                                                 int threads, Distributed* job) {
  ANSER_ASSIGN_OR_RETURN(ResumeFile f, ReadResumeFile(ResumePath(out_dir)));
  const Json meta = Json::parse(f.meta_json, nullptr, false);
  if (meta.is_discarded())
    return Status::Error("[train] the resume file in '" + out_dir + "' is damaged");
  std::unique_ptr<Trainer> t(new Trainer());
  if (job != nullptr) t->job_ = job;
  try {
    t->options_ = OptionsFromJson(meta.at("options"));
    t->options_.threads = threads;
    t->out_dir_ = out_dir;
    t->init_path_ = meta.at("init_path");
    if (meta.at("corpus_hash").get<uint64_t>() != CorpusHash(corpus)) {
      return Status::Error("[train] --data differs from the data of the run being resumed in '" +
                           out_dir + "'");
    }
    t->corpus_ = std::move(corpus);
    ANSER_ASSIGN_OR_RETURN(const ModelConfig config, ConfigFromJson(meta.at("config")));
    if (t->options_.tune_state) {
      ANSER_ASSIGN_OR_RETURN(t->params_, LoadParams(t->init_path_));
    } else {
      t->params_ = ParamSet(config);
      for (const Json& d : meta.at("tensors"))
        t->params_.Add(d.at("name"), d.at("shape").get<std::vector<int64_t>>());
    }
    t->rng_ = SplitMix64(meta.at("rng").get<uint64_t>());
    t->step_ = meta.at("step"), t->tokens_ = meta.at("tokens"),
    t->elapsed_before_ = meta.at("elapsed_s");
    for (const Json& r : meta.at("log")) t->log_.push_back(RowFromJson(r));
  } catch (const Json::exception& e) {
    return Status::Error("[train] the resume file in '" + out_dir + "' is damaged: " + e.what());
  }
  ANSER_RETURN_IF_ERROR(t->Prepare());
  size_t at = 0;
  ANSER_RETURN_IF_ERROR(Unpack(f.values, &at, t->trainable()));
  ANSER_RETURN_IF_ERROR(Unpack(f.values, &at, t->m_));
  ANSER_RETURN_IF_ERROR(Unpack(f.values, &at, t->v_));
  if (at != f.values.size())
    return Status::Error("[train] the resume file does not match its model");
  // The rows after the checkpoint were lost with the interrupted session; replay from here.
  if (t->writes_files()) ANSER_RETURN_IF_ERROR(WriteLog(LogPath(out_dir), t->log_));
  return t;
}

std::string Trainer::MetaJson() const {
  Json tensors = Json::array();
  for (const NamedTensor<float>& t : params_.tensors())
    tensors.push_back({{"name", t.name}, {"shape", t.shape}});
  Json log = Json::array();
  for (const LogRow& r : log_) log.push_back(RowJson(r));
  const double elapsed =
      elapsed_before_ +
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  Json meta = {{"options", OptionsJson(options_)},
               {"config", ConfigJson(params_.config())},
               {"init_path", init_path_},
               {"corpus_hash", CorpusHash(corpus_)},
               {"rng", rng_.state()},
               {"step", step_},
               {"tokens", tokens_},
               {"elapsed_s", elapsed},
               {"tensors", tensors},
               {"log", log}};
  return meta.dump();
}

Status Trainer::Save() {
  if (!writes_files()) return Status::Ok();
  std::vector<const std::vector<float>*> parts;
  for (const std::vector<NamedTensor<float>>* group :
       {&(options_.tune_state ? state_ : params_.tensors()), &m_, &v_}) {
    for (const NamedTensor<float>& t : *group) parts.push_back(&t.data);
  }
  ANSER_RETURN_IF_ERROR(WriteResumeFile(ResumePath(out_dir_), MetaJson(), parts));
  if (options_.tune_state)
    return SaveInitState(out_dir_ + "/state.pth", state_[0].data, params_.config());
  return SaveParams(out_dir_ + "/model.pth", params_, options_.bf16);
}

Result<double> Trainer::Evaluate() const {
  // Process r scores batches r, r + N, …; the sum of the per-batch losses (each from one
  // process, zeros from the others: exact) is then added up in batch order, as one process does.
  std::vector<double> losses(validation_.size(), 0.0);
  const float* init = options_.tune_state ? state_[0].data.data() : nullptr;
  for (size_t i = static_cast<size_t>(job_->rank()); i < validation_.size();
       i += static_cast<size_t>(job_->size())) {
    ANSER_ASSIGN_OR_RETURN(losses[i], ComputeLoss(params_, validation_[i], init, options_.threads));
  }
  job_->SumDoubles(losses.data(), losses.size());
  double sum = 0.0;
  int64_t count = 0;
  for (size_t i = 0; i < validation_.size(); ++i) {
    const Batch& b = validation_[i];
    sum += losses[i] * static_cast<double>(b.batch * b.n_tokens);
    count += b.batch * b.n_tokens;
  }
  return count > 0 ? sum / static_cast<double>(count) : 0.0;
}

Batch Trainer::Share(const Batch& global) const {
  if (job_->size() == 1) return global;
  const int64_t rows = global.batch / job_->size();
  const auto begin = static_cast<ptrdiff_t>(job_->rank() * rows * global.n_tokens);
  const auto end = begin + static_cast<ptrdiff_t>(rows * global.n_tokens);
  Batch b;
  b.batch = rows;
  b.n_tokens = global.n_tokens;
  b.inputs.assign(global.inputs.begin() + begin, global.inputs.begin() + end);
  b.targets.assign(global.targets.begin() + begin, global.targets.begin() + end);
  return b;
}

void Trainer::AverageGradients(std::vector<NamedTensor<float>>& grads) {
  if (job_->size() == 1) return;
  // Every share has the same number of labelled positions (text labels them all), so the mean
  // over the global batch is the mean of the shares' means.
  fused_.clear();
  for (const NamedTensor<float>& g : grads)
    fused_.insert(fused_.end(), g.data.begin(), g.data.end());
  job_->SumFloats(fused_.data(), fused_.size());
  const auto n = static_cast<float>(job_->size());
  size_t at = 0;
  for (NamedTensor<float>& g : grads) {
    for (float& x : g.data) x = fused_[at++] / n;
  }
}

Status Trainer::CheckSameWeights() {
  if (job_->size() == 1) return Status::Ok();
  // FNV-1a over the bit patterns of the trainable weights, a word at a time (an evaluation
  // costs far more than this pass).
  uint64_t h = 1469598103934665603ull;
  for (const NamedTensor<float>& t : trainable()) {
    for (const float x : t.data) {
      h ^= std::bit_cast<uint32_t>(x);
      h *= 1099511628211ull;
    }
  }
  if (job_->AllEqual(h)) return Status::Ok();
  return Status::Error("[train] the weights of the " + std::to_string(job_->size()) +
                       " processes differ after step " + std::to_string(step_) +
                       ": the processes must run the same anser build on CPUs that compute "
                       "alike; resume from the last checkpoint");
}

Result<LogRow> Trainer::Step() {
  if (done())
    return Status::Error("[train] the run has already done its " + std::to_string(options_.steps) +
                         " steps");
  const auto t0 = std::chrono::steady_clock::now();
  LogRow row;
  row.lr = ScheduledLr(step_, options_.steps, options_.warmup, options_.lr, options_.lr_final);
  const Batch global = SampleBatch(corpus_.train, options_.batch, options_.ctx, rng_);
  const Batch batch = Share(global);
  GradOptions g;
  g.l2wrap = options_.l2wrap;
  g.threads = options_.threads;
  g.dropout.p = options_.dropout;
  g.dropout.seed = DropoutSeed(options_.seed, step_);
  g.dropout.first_row = job_->rank() * batch.batch * batch.n_tokens;
  g.bf16_products = options_.bf16_products;
  std::vector<NamedTensor<float>>* grads = nullptr;
  if (options_.tune_state) {
    ANSER_ASSIGN_OR_RETURN(
        row.loss, ComputeStateGradient(params_, batch, state_[0].data, g, &state_grad_[0].data));
    grads = &state_grad_;
  } else {
    ANSER_ASSIGN_OR_RETURN(row.loss, ComputeGradients(params_, batch, g, &grads_));
    grads = &grads_.tensors();
  }
  AverageGradients(*grads);
  job_->SumDoubles(&row.loss, 1);
  row.loss /= job_->size();
  if (!std::isfinite(row.loss)) {
    return Status::Error("[train] the loss became " + std::to_string(row.loss) + " at step " +
                         std::to_string(step_ + 1) + ": lower --lr");
  }
  ClipGradNorm(*grads, options_.grad_clip);
  AdamWOptions adam;
  adam.weight_decay = options_.weight_decay;
  AdamWStep(trainable(), *grads, m_, v_, row.lr, step_ + 1, adam, options_.threads);
  ++step_;
  tokens_ += global.batch * global.n_tokens;
  row.step = step_;
  row.tokens = tokens_;
  row.tok_s =
      static_cast<double>(global.batch * global.n_tokens) /
      std::max(1e-9, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  if ((options_.eval_every > 0 && step_ % options_.eval_every == 0) || done()) {
    ANSER_ASSIGN_OR_RETURN(row.val_loss, Evaluate());
    ANSER_RETURN_IF_ERROR(CheckSameWeights());
  }
  row.elapsed_s = elapsed_before_ +
                  std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  log_.push_back(row);
  if (writes_files()) ANSER_RETURN_IF_ERROR(AppendLog(LogPath(out_dir_), row));
  if ((options_.save_every > 0 && step_ % options_.save_every == 0) || done())
    ANSER_RETURN_IF_ERROR(Save());
  return row;
}

}  // namespace anser
