#include "train/grad.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "io/formats.h"
#include "kernels/kernels.h"
#include "train/block_train.h"
#include "train/dropout.h"
#include "train/gemm.h"
#include "train/loss.h"
#include "train/norm_grad.h"
#include "train/param_refs.h"
#include "train/train_constants.h"
#include "train/variant_params.h"

namespace anser {
namespace {

// What a run of the forward (and backward) needs, beyond the parameters.
template <typename Real>
struct RunSpec {
  const Real* init_state = nullptr;     // (L, H, N, N) or null: zeros
  Params<Real>* grads = nullptr;        // null: model frozen
  Real* state_grad = nullptr;           // (L, H, N, N) or null
  std::vector<Real>* logits = nullptr;  // forward only: the logits of every row
  bool loss_only = false;               // forward only: the loss, no backward
  EvalStats* eval = nullptr;            // loss_only: also the accuracy
  GradOptions options;
};

// The rows of a batch that have a target, which alone reach the head and the loss: the rows
// themselves when every one has (no copy), else a gathered copy.
template <typename Real>
struct LabelledRows {
  LabelledRows(const Real* xf, const int* targets, int64_t rows, int64_t C) {
    for (int64_t r = 0; r < rows; ++r) {
      if (targets[r] != kNoTarget) index.push_back(r);
    }
    n = static_cast<int64_t>(index.size());
    gathered = n != rows;
    x = xf, t = targets;
    if (!gathered) return;
    x_buf.resize(static_cast<size_t>(n * C));
    t_buf.resize(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) {
      std::copy_n(xf + index[static_cast<size_t>(i)] * C, C, x_buf.data() + i * C);
      t_buf[static_cast<size_t>(i)] = targets[index[static_cast<size_t>(i)]];
    }
    x = x_buf.data(), t = t_buf.data();
  }
  // Row i of `compact` (n rows of `width`) into its batch row of `full`.
  template <typename T>
  void Scatter(const T* compact, int64_t width, T* full) const {
    for (int64_t i = 0; i < n; ++i)
      std::copy_n(compact + i * width, width, full + index[static_cast<size_t>(i)] * width);
  }

  int64_t n = 0;
  bool gathered = false;
  const Real* x;
  const int* t;
  std::vector<int64_t> index;
  std::vector<Real> x_buf;
  std::vector<int> t_buf;
};

// Σ_rows logsumexp(head·x) − (head·x)[target], in blocks of rows so the logits stay small.
// Unless `correct` is null, correct[r] = 1 where the first largest logit is the target.
template <typename Real>
double SumCrossEntropy(const Real* xf, const Real* head, const int* targets, int64_t rows,
                       int64_t C, int64_t V, int threads, uint8_t* correct) {
  constexpr int64_t kRows = 128;
  std::vector<Real> logits(static_cast<size_t>(std::min(rows, kRows) * V));
  double loss = 0.0;
  for (int64_t r0 = 0; r0 < rows; r0 += kRows) {
    const int64_t n = std::min(kRows, rows - r0);
    GemmNT(xf + r0 * C, head, n, C, V, logits.data(), false, threads);
    for (int64_t r = 0; r < n; ++r) {
      const Real* z = logits.data() + r * V;
      const Real* best = std::max_element(z, z + V);
      const double zmax = *best;
      double sum = 0.0;
      for (int64_t i = 0; i < V; ++i) sum += std::exp(static_cast<double>(z[i]) - zmax);
      loss += zmax + std::log(sum) - static_cast<double>(z[targets[r0 + r]]);
      if (correct != nullptr) correct[r0 + r] = best - z == targets[r0 + r] ? 1 : 0;
    }
  }
  return loss;
}

template <typename Real>
Result<double> Run(const Params<Real>& params, const Batch& batch, const RunSpec<Real>& spec) {
  const ModelConfig& cfg = params.config();
  ANSER_RETURN_IF_ERROR(ValidateBatch(batch, cfg.n_vocab));
  if (spec.options.bf16_products && !Bf16ProductsRun()) {
    return Status::Error(std::string("[grad] bfloat16 products need a CPU with AVX-512 BF16; the '") +
                         SelectKernels().name + "' kernel table here has none");
  }
  const ScopedBf16Products bf16(spec.options.bf16_products);
  const BatchShape s{batch.batch, batch.n_tokens, std::max(spec.options.threads, 1)};
  const int64_t rows = s.rows(), C = cfg.n_embd, V = cfg.n_vocab;
  const int64_t state_size = int64_t{cfg.n_head} * cfg.head_size * cfg.head_size;
  ModelRefs<const Real> P = Bind(params);
  const VariantParams<Real> variant(cfg, P);

  // x = LayerNorm(emb[token]; ln0)
  std::vector<Real> emb(static_cast<size_t>(rows * C)), x(emb.size()),
      mean0(static_cast<size_t>(rows)), rstd0(mean0.size());
  for (int64_t r = 0; r < rows; ++r) {
    std::copy_n(P.emb + static_cast<int64_t>(batch.inputs[static_cast<size_t>(r)]) * C, C,
                emb.data() + r * C);
  }
  NormForward(emb.data(), P.ln0_w, P.ln0_b, rows, 1, C, kLayerNormEps, x.data(), mean0.data(),
              rstd0.data());
  std::vector<BlockActivations<Real>> acts(static_cast<size_t>(cfg.n_layer));
  // Dropout's masks are drawn again for the backward rather than kept.
  const DropoutSpec& drop = spec.options.dropout;
  auto mask = [&](int l, DropoutSite site) { return DropoutMask<Real>(drop, l, site, rows, C); };
  for (int l = 0; l < cfg.n_layer; ++l) {
    const Real* init = spec.init_state ? spec.init_state + l * state_size : nullptr;
    const std::vector<Real> mid = drop.active() ? mask(l, DropoutSite::kAfterTimeMix) : std::vector<Real>();
    BlockForward(P.layers[static_cast<size_t>(l)], cfg, s, l == 0, init,
                 l == 0 ? nullptr : acts[0].v.data(), drop.active() ? mid.data() : nullptr, x.data(),
                 acts[static_cast<size_t>(l)]);
    if (drop.active()) ApplyMask(mask(l, DropoutSite::kAfterChannelMix), x.data());
  }
  // x = LayerNorm(x; ln_out) ; logits = head·x
  std::vector<Real> xf(x.size()), mean_out(mean0.size()), rstd_out(mean0.size());
  NormForward(x.data(), P.ln_out_w, P.ln_out_b, rows, 1, C, kLayerNormEps, xf.data(),
              mean_out.data(), rstd_out.data());
  if (spec.logits != nullptr) {
    spec.logits->assign(static_cast<size_t>(rows * V), Real(0));
    GemmNT(xf.data(), P.head, rows, C, V, spec.logits->data(), false, s.threads);
    return 0.0;
  }
  const LabelledRows<Real> labelled(xf.data(), batch.targets.data(), rows, C);
  const double n_labelled = static_cast<double>(std::max<int64_t>(labelled.n, 1));
  if (spec.loss_only) {
    std::vector<uint8_t> correct(spec.eval != nullptr ? static_cast<size_t>(labelled.n) : 0);
    const double loss = SumCrossEntropy(labelled.x, P.head, labelled.t, labelled.n, C, V, s.threads,
                                        spec.eval != nullptr ? correct.data() : nullptr) /
                        n_labelled;
    if (spec.eval != nullptr) {
      spec.eval->loss = loss;
      spec.eval->labelled = labelled.n;
      spec.eval->correct.assign(static_cast<size_t>(rows), 0);
      labelled.Scatter(correct.data(), 1, spec.eval->correct.data());
    }
    return loss;
  }

  ModelRefs<Real> G{};
  if (spec.grads != nullptr) {
    spec.grads->SetZero();
    G = Bind(*spec.grads);
  }
  const bool frozen = spec.grads == nullptr;
  std::vector<Real> dxf(xf.size(), Real(0)), dx(xf.size(), Real(0)), dv_first(xf.size(), Real(0));
  const LossOptions loss_options{labelled.n, spec.options.l2wrap, s.threads};
  std::vector<Real> dxf_labelled(labelled.gathered ? static_cast<size_t>(labelled.n * C) : 0);
  const double loss_sum =
      HeadCrossEntropy(labelled.x, P.head, labelled.t, labelled.n, C, V, loss_options,
                       labelled.gathered ? dxf_labelled.data() : dxf.data(), frozen ? nullptr : G.head);
  if (labelled.gathered) labelled.Scatter(dxf_labelled.data(), C, dxf.data());
  NormBackward(x.data(), P.ln_out_w, mean_out.data(), rstd_out.data(), dxf.data(), rows, 1, C,
               dx.data(), frozen ? nullptr : G.ln_out_w, frozen ? nullptr : G.ln_out_b);
  for (int l = cfg.n_layer - 1; l >= 0; --l) {
    const size_t li = static_cast<size_t>(l);
    const Real* init = spec.init_state ? spec.init_state + l * state_size : nullptr;
    Real* dstate = spec.state_grad ? spec.state_grad + l * state_size : nullptr;
    if (drop.active()) ApplyMask(mask(l, DropoutSite::kAfterChannelMix), dx.data());
    const std::vector<Real> mid = drop.active() ? mask(l, DropoutSite::kAfterTimeMix) : std::vector<Real>();
    BlockBackward(P.layers[li], frozen ? nullptr : &G.layers[li], cfg, s, l == 0, init,
                  l == 0 ? nullptr : acts[0].v.data(), drop.active() ? mid.data() : nullptr,
                  acts[li], dx.data(), dv_first.data(), dstate);
    acts[li] = BlockActivations<Real>();  // release as soon as the layer is done
  }
  if (!frozen) {
    // x = LayerNorm(emb[token]; ln0): the embedding rows collect their tokens' gradients
    std::vector<Real> demb(emb.size(), Real(0));
    NormBackward(emb.data(), P.ln0_w, mean0.data(), rstd0.data(), dx.data(), rows, 1, C,
                 demb.data(), G.ln0_w, G.ln0_b);
    for (int64_t r = 0; r < rows; ++r) {
      Real* row = G.emb + static_cast<int64_t>(batch.inputs[static_cast<size_t>(r)]) * C;
      for (int64_t c = 0; c < C; ++c) row[c] += demb[static_cast<size_t>(r * C + c)];
    }
    variant.FoldGradients(G);
  }
  return loss_sum / n_labelled;
}

}  // namespace

template <typename Real>
Result<double> ComputeGradients(const Params<Real>& params, const Batch& batch,
                                const GradOptions& options, Params<Real>* grads) {
  RunSpec<Real> spec;
  spec.grads = grads;
  spec.options = options;
  return Run(params, batch, spec);
}

template <typename Real>
Result<double> ComputeStateGradient(const Params<Real>& params, const Batch& batch,
                                    const std::vector<Real>& init_state, const GradOptions& options,
                                    std::vector<Real>* grad) {
  const ModelConfig& c = params.config();
  const size_t size = static_cast<size_t>(c.n_layer) * c.n_head * c.head_size * c.head_size;
  if (init_state.size() != size) {
    return Status::Error(
        "[grad] the initial state holds " + std::to_string(init_state.size()) +
        " values; the model needs n_layer·n_head·head_size² = " + std::to_string(size));
  }
  grad->assign(size, Real(0));
  RunSpec<Real> spec;
  spec.init_state = init_state.data();
  spec.state_grad = grad->data();
  spec.options = options;
  return Run(params, batch, spec);
}

template <typename Real>
Result<double> ComputeLoss(const Params<Real>& params, const Batch& batch, const Real* init_state,
                           int threads) {
  RunSpec<Real> spec;
  spec.init_state = init_state;
  spec.loss_only = true;
  spec.options.threads = threads;
  return Run(params, batch, spec);
}

template <typename Real>
Result<EvalStats> EvaluateBatch(const Params<Real>& params, const Batch& batch,
                                const Real* init_state, int threads) {
  EvalStats stats;
  RunSpec<Real> spec;
  spec.init_state = init_state;
  spec.loss_only = true;
  spec.eval = &stats;
  spec.options.threads = threads;
  ANSER_RETURN_IF_ERROR(Run(params, batch, spec).status());
  return stats;
}

template <typename Real>
Result<std::vector<Real>> TrainForwardLogits(const Params<Real>& params, const Batch& batch,
                                             int threads) {
  std::vector<Real> logits;
  RunSpec<Real> spec;
  spec.logits = &logits;
  spec.options.threads = threads;
  ANSER_RETURN_IF_ERROR(Run(params, batch, spec).status());
  return logits;
}

template Result<double> ComputeGradients<float>(const Params<float>&, const Batch&,
                                                const GradOptions&, Params<float>*);
template Result<double> ComputeGradients<double>(const Params<double>&, const Batch&,
                                                 const GradOptions&, Params<double>*);
template Result<double> ComputeStateGradient<float>(const Params<float>&, const Batch&,
                                                    const std::vector<float>&, const GradOptions&,
                                                    std::vector<float>*);
template Result<double> ComputeStateGradient<double>(const Params<double>&, const Batch&,
                                                     const std::vector<double>&, const GradOptions&,
                                                     std::vector<double>*);
template Result<double> ComputeLoss<float>(const Params<float>&, const Batch&, const float*, int);
template Result<double> ComputeLoss<double>(const Params<double>&, const Batch&, const double*,
                                            int);
template Result<EvalStats> EvaluateBatch<float>(const Params<float>&, const Batch&, const float*,
                                                int);
template Result<EvalStats> EvaluateBatch<double>(const Params<double>&, const Batch&,
                                                 const double*, int);
template Result<std::vector<float>> TrainForwardLogits<float>(const Params<float>&, const Batch&,
                                                              int);
template Result<std::vector<double>> TrainForwardLogits<double>(const Params<double>&, const Batch&,
                                                                int);

Status SaveGradients(const std::string& path, const ParamSet& grads) {
  return SaveTorchPth(path, Views(grads));
}

Result<std::vector<float>> LoadInitState(const std::string& path, const ModelConfig& c) {
  ANSER_ASSIGN_OR_RETURN(TensorStore store, LoadTorchPth(path));
  const TensorView* t = store.Find("init_state");
  if (t == nullptr) return Status::Error("[grad] '" + path + "' has no tensor 'init_state'");
  const std::vector<int64_t> want{c.n_layer, c.n_head, c.head_size, c.head_size};
  if (t->shape != want) {
    TensorView w;
    w.shape = want;
    return Status::Error("[grad] tensor 'init_state' in '" + path + "': expected " +
                         w.ShapeString() + " (n_layer, n_head, head_size, head_size), got " +
                         t->ShapeString());
  }
  if (t->dtype != DType::kF32 && t->dtype != DType::kF16 && t->dtype != DType::kBF16) {
    return Status::Error("[grad] tensor 'init_state' in '" + path + "' has type " +
                         std::string(DTypeName(t->dtype)) + "; expected f32, f16 or bf16");
  }
  std::vector<float> out(static_cast<size_t>(t->numel()));
  for (size_t i = 0; i < out.size(); ++i) {
    switch (t->dtype) {
      case DType::kF16:
        out[i] = F16ToF32(static_cast<const uint16_t*>(t->data)[i]);
        break;
      case DType::kBF16:
        out[i] = Bf16ToF32(static_cast<const uint16_t*>(t->data)[i]);
        break;
      default:
        std::memcpy(&out[i], static_cast<const uint8_t*>(t->data) + i * 4, 4);
        break;
    }
  }
  return out;
}

Status SaveStateGradient(const std::string& path, const std::vector<float>& grad,
                         const ModelConfig& c) {
  TensorView v;
  v.name = "grad";
  v.dtype = DType::kF32;
  v.shape = {c.n_layer, c.n_head, c.head_size, c.head_size};
  v.data = grad.data();
  if (static_cast<int64_t>(grad.size()) != v.numel()) {
    return Status::Error("[grad] the state gradient does not match the model's state shape");
  }
  return SaveTorchPth(path, {v});
}

}  // namespace anser
