// The RWKV-7 x070 forward pass. One code path serves the one-token step (n = 1: matrix–vector
// products) and the sequence path (n ≤ kWindow tokens per layer: matrix–matrix products).
// Above each block, the line of the official formula (RWKV-LM RWKV-v7/rwkv_v7_demo_rnn.py).
#include <algorithm>
#include <cmath>
#include <cstring>

#include "anser/model.h"
#include "core/check.h"
#include "core/thread_pool.h"
#include "kernels/elementwise.h"
#include "kernels/kernels.h"
#include "kernels/quantize.h"
#include "model/activation_stats.h"
#include "model/weights.h"

namespace anser {
namespace {

constexpr int64_t kWindow = 512;      // most tokens per layer pass of the sequence path
constexpr float kLayerNormEps = 1e-5f;
constexpr float kGroupNormEps = 64e-5f;
constexpr float kDecayScale = -0.606531f;  // −e^−0.5

}  // namespace

// Buffers for `rows` token rows, grown on demand (so a decoding Session holds one row and no
// allocation happens per token once a Session has seen its largest window).
struct Session::Scratch {
  explicit Scratch(const ModelConfig& c) : C(c.n_embd), F(c.n_ffn), V(c.n_vocab) {
    const LoraRanks& r = c.lora_ranks;
    lora_width = r.w + r.a + r.v + r.g;
    // Rows per window: at most kWindow, fewer for wide models so the buffers stay within
    // kBudgetBytes (they count against the resident-memory target next to the weights).
    const int64_t row_bytes = (18 * C + lora_width + std::max(F, C)) * static_cast<int64_t>(sizeof(float));
    window = std::clamp<int64_t>(kBudgetBytes / row_bytes, 1, kWindow);
    logits.resize(static_cast<size_t>(V));
  }
  void Reserve(int64_t n) {
    if (n <= rows) return;
    rows = n;
    for (std::vector<float>* b : {&x, &h, &xr, &xw, &xk, &xv, &xa, &xg, &r_, &w, &k, &v, &a, &g,
                                  &kk, &b_, &y, &v_first}) {
      b->resize(static_cast<size_t>(n * C));
    }
    lora.resize(static_cast<size_t>(n * lora_width));
    hidden.resize(static_cast<size_t>(n * std::max(F, C)));
    shifts.resize(static_cast<size_t>(n));
  }
  static constexpr int64_t kBudgetBytes = int64_t{16} << 20;
  int64_t C, F, V, lora_width, window, rows = 0;
  std::vector<float> x, h, xr, xw, xk, xv, xa, xg, r_, w, k, v, a, g, kk, b_, y, v_first;
  std::vector<float> lora;  // the four LoRA hidden layers, each n × its rank, one after another
  std::vector<float> hidden, logits;
  std::vector<float*> shifts;  // one per sequence of a window
  // Set only during FindNonFinite: receives the first quantity that is not finite.
  std::optional<NonFiniteSite>* trace = nullptr;
  // Set only while collecting an importance matrix: receives the large matrices' inputs.
  ActivationStats* stats = nullptr;
};

namespace {

// y = W·x for each of n tokens.
void Project(const CpuKernels& kn, const MatRef& w, const float* x, int64_t n, float* y) {
  if (n == 1) {
    kn.matvec(w, x, y);
  } else {
    kn.matmul(w, x, n, y);
  }
}

// Runs f(t) for every token t < n: inline for one token, over the kernel pool for several, so
// that the element-wise work between the projections is not the serial part of a batched step.
template <class F>
void ForTokens(int64_t n, const F& f) {
  if (n == 1) return f(0);
  const int64_t chunks = 2 * KernelPool().threads();
  KernelPool().ParallelFor(n, (n + chunks - 1) / chunks, [&](int64_t begin, int64_t end) {
    for (int64_t t = begin; t < end; ++t) f(t);
  });
}

// o = lerp(cur, prev, mu) over C channels.
void Lerp(const float* cur, const float* prev, const float* mu, int64_t C, float* o) {
  for (int64_t c = 0; c < C; ++c) o[c] = cur[c] + (prev[c] - cur[c]) * mu[c];
}

// x[i] = f(x[i]) over n values. A plain loop over local pointers, so that it vectorizes.
template <class F>
void Apply(float* x, int64_t n, F f) {
  for (int64_t i = 0; i < n; ++i) x[i] = f(x[i]);
}

// x[c] = f(x[c], per_channel[c]) over C channels.
template <class F>
void ApplyPerChannel(float* x, const float* per_channel, int64_t C, F f) {
  for (int64_t c = 0; c < C; ++c) x[c] = f(x[c], per_channel[c]);
}

// Each sequence's shift vector becomes the normalised input of its last token.
void StoreShifts(const float* h, float* const* shifts, int64_t n_seq, int64_t per_seq, int64_t C) {
  for (int64_t b = 0; b < n_seq; ++b) {
    std::memcpy(shifts[b], h + ((b + 1) * per_seq - 1) * C, static_cast<size_t>(C) * sizeof(float));
  }
}

}  // namespace

Session::Session(std::shared_ptr<const Model> model, SessionOptions options)
    : model_(std::move(model)), scratch_(std::make_unique<Scratch>(model_->config())) {
  SetKernelThreads(options.threads);
}

Session::~Session() = default;

namespace {

// The checks of FindNonFinite's re-run. In every other run `s.trace` is null and a check costs
// one test of it.
void Trace(Session::Scratch& s, int layer, const char* quantity, const float* x, int64_t count) {
  if (s.trace == nullptr || s.trace->has_value()) return;
  if (!AllFinite(std::span<const float>(x, static_cast<size_t>(count)))) *s.trace = NonFiniteSite{layer, quantity};
}

// Adds n inputs of a large matrix to the collected statistics, under its GGUF name (layer < 0:
// not a layer's). When not collecting, a check costs one test of `s.stats`.
void Observe(Session::Scratch& s, int layer, const char* matrix, const float* x, int64_t n, int64_t cols) {
  if (s.stats == nullptr) return;
  const std::string prefix = layer < 0 ? "" : "blk." + std::to_string(layer) + ".";
  s.stats->Add(prefix + matrix + ".weight", x, n, cols);
}

// One window through every layer: states.size() sequences of per_seq tokens each (rows in
// sequence-major order, at most s.window in all). Leaves the final hidden vectors in s.x.
void ForwardWindow(const Weights& W, const CpuKernels& kn, Session::Scratch& s,
                   std::span<State* const> states, int64_t per_seq, const int* tokens) {
  const ModelConfig& cfg = W.config();
  const int64_t n_seq = static_cast<int64_t>(states.size());
  const int64_t n = n_seq * per_seq;
  s.Reserve(n);
  float** shifts = s.shifts.data();
  const int64_t C = cfg.n_embd, H = cfg.n_head, N = cfg.head_size, F = cfg.n_ffn;
  const LoraRanks& ranks = cfg.lora_ranks;
  const float removal = static_cast<float>(cfg.variant.removal_scale());
  const size_t row_bytes = DTypeRowBytes(W.emb.dtype, C);
  // Token t's row of a buffer of C (or `width`) values per token.
  const auto row = [](std::vector<float>& buffer, int64_t t, int64_t width) { return buffer.data() + t * width; };
  // The previous row of a sequence's first token is that sequence's stored shift vector.
  const auto prev_row = [&](std::vector<float>& buffer, int64_t t, float* const* shift) -> const float* {
    return t % per_seq == 0 ? shift[t / per_seq] : row(buffer, t - 1, C);
  };
  float* lora_w = s.lora.data();
  float* lora_a = lora_w + n * ranks.w;
  float* lora_g = lora_a + n * ranks.a;
  float* lora_v = lora_g + n * ranks.g;
  // x = LayerNorm(emb[token]; ln0)
  ForTokens(n, [&](int64_t t) {
    float* x = row(s.x, t, C);
    DequantizeRow(W.emb.dtype, static_cast<const uint8_t*>(W.emb.data) + static_cast<size_t>(tokens[t]) * row_bytes,
                  C, x);
    LayerNorm(x, W.ln0_w, W.ln0_b, C, kLayerNormEps, x);
  });
  Trace(s, -1, "embedding (after ln0)", s.x.data(), n * C);
  for (int l = 0; l < cfg.n_layer; ++l) {
    const LayerWeights& L = W.layer(l);
    if (s.trace != nullptr) {
      for (State* st : states) {
        Trace(s, l, "att_shift state", st->att_shift(l), C);
        Trace(s, l, "wkv state", st->wkv(l), H * N * N);
        Trace(s, l, "ffn_shift state", st->ffn_shift(l), C);
      }
    }
    // ---- time mix ----
    ForTokens(n, [&](int64_t t) { LayerNorm(row(s.x, t, C), L.ln1_w, L.ln1_b, C, kLayerNormEps, row(s.h, t, C)); });
    Trace(s, l, "ln1", s.h.data(), n * C);
    for (int64_t b = 0; b < n_seq; ++b) shifts[b] = states[static_cast<size_t>(b)]->att_shift(l);
    // xr, xw, xk, xv, xa, xg = lerp(h, prev, x_r), …
    ForTokens(n, [&](int64_t t) {
      const float* cur = row(s.h, t, C);
      const float* prev = prev_row(s.h, t, shifts);
      Lerp(cur, prev, L.x_r, C, row(s.xr, t, C));
      Lerp(cur, prev, L.x_w, C, row(s.xw, t, C));
      Lerp(cur, prev, L.x_k, C, row(s.xk, t, C));
      Lerp(cur, prev, L.x_v, C, row(s.xv, t, C));
      Lerp(cur, prev, L.x_a, C, row(s.xa, t, C));
      Lerp(cur, prev, L.x_g, C, row(s.xg, t, C));
    });
    StoreShifts(s.h.data(), shifts, n_seq, per_seq, C);
    // r = W_r·xr ; k = W_k·xk ; v = W_v·xv
    Observe(s, l, "time_mix_receptance", s.xr.data(), n, C);
    Observe(s, l, "time_mix_key", s.xk.data(), n, C);
    Observe(s, l, "time_mix_value", s.xv.data(), n, C);
    Project(kn, L.receptance, s.xr.data(), n, s.r_.data());
    Project(kn, L.key, s.xk.data(), n, s.k.data());
    Project(kn, L.value, s.xv.data(), n, s.v.data());
    Trace(s, l, "r (W_r·xr)", s.r_.data(), n * C);
    Trace(s, l, "k (W_k·xk)", s.k.data(), n * C);
    Trace(s, l, "v (W_v·xv)", s.v.data(), n * C);
    // The LoRA hidden layers: tanh(xw·w1), xa·a1, σ(xg·g1), xv·v1
    Project(kn, L.w1, s.xw.data(), n, lora_w);
    Project(kn, L.a1, s.xa.data(), n, lora_a);
    Project(kn, L.g1, s.xg.data(), n, lora_g);
    if (l > 0) Project(kn, L.v1, s.xv.data(), n, lora_v);
    ForTokens(n, [&](int64_t t) {
      Apply(lora_w + t * ranks.w, ranks.w, [](float q) { return Tanh(q); });
      Apply(lora_g + t * ranks.g, ranks.g, [](float q) { return Sigmoid(q); });
    });
    Project(kn, L.w2, lora_w, n, s.w.data());
    Project(kn, L.a2, lora_a, n, s.a.data());
    Project(kn, L.g2, lora_g, n, s.g.data());
    if (l > 0) Project(kn, L.v2, lora_v, n, s.xr.data());  // xr is free again: reuse it
    Trace(s, l, "decay LoRA (xw·w1·w2)", s.w.data(), n * C);
    Trace(s, l, "in-context rate LoRA (xa·a1·a2)", s.a.data(), n * C);
    Trace(s, l, "gate g (σ(xg·g1)·g2)", s.g.data(), n * C);
    ForTokens(n, [&](int64_t t) {
      float* w = row(s.w, t, C);
      float* a = row(s.a, t, C);
      float* k = row(s.k, t, C);
      float* kk = row(s.kk, t, C);
      float* b = row(s.b_, t, C);
      float* v = row(s.v, t, C);
      float* v_first = row(s.v_first, t, C);
      // w = exp(−0.606531 · σ(w0 + tanh(xw·w1)·w2)) ; a = σ(a0 + (xa·a1)·a2)
      ApplyPerChannel(w, L.w0, C, [](float q, float w0) { return Exp(kDecayScale * Sigmoid(w0 + q)); });
      ApplyPerChannel(a, L.a0, C, [](float q, float a0) { return Sigmoid(a0 + q); });
      // κ̂ = normalize_per_head(k ⊙ k_k)
      for (int64_t hd = 0; hd < H; ++hd) {
        float sq = 0.0f;
        for (int64_t j = 0; j < N; ++j) {
          const float q = k[hd * N + j] * L.k_k[hd * N + j];
          kk[hd * N + j] = q;
          sq += q * q;
        }
        const float inv = 1.0f / std::max(std::sqrt(sq), 1e-12f);
        for (int64_t j = 0; j < N; ++j) kk[hd * N + j] *= inv;
      }
      // k = k ⊙ (1 + (a − 1) ⊙ k_a). The WKV kernel takes a = −κ̂ and b = κ̂ ⊙ α.
      for (int64_t c = 0; c < C; ++c) {
        k[c] *= 1.0f + (a[c] - 1.0f) * L.k_a[c];
        b[c] = kk[c] * a[c];
        kk[c] = -kk[c];
      }
      // The removal term times the model's multiplier (0 without the delta rule). The other
      // switches were applied to the weights at load (model/variant.h).
      if (removal != 1.0f) Apply(b, C, [removal](float q) { return q * removal; });
      // v_first = v (layer 0) ; else v = v + (v_first − v) ⊙ σ(v0 + (xv·v1)·v2)
      if (l == 0) {
        std::copy_n(v, C, v_first);
      } else {
        const float* mix = row(s.xr, t, C);
        for (int64_t c = 0; c < C; ++c) v[c] += (v_first[c] - v[c]) * Sigmoid(L.v0[c] + mix[c]);
      }
    });
    // S = S·diag(w) + (S·(−κ̂))·(κ̂⊙a)ᵀ + v·kᵀ ; y = S·r. One sequence is split over its heads
    // by the kernel; several go over the pool a sequence at a time (the kernel's own split then
    // runs inline), one wake-up for the batch instead of one per sequence.
    const auto wkv = [&](int64_t b) {
      const int64_t o = b * per_seq * C;
      Wkv7Args args;
      args.n_tokens = per_seq;
      args.n_head = H;
      args.head_size = N;
      args.stride = C;
      args.state = states[static_cast<size_t>(b)]->wkv(l);
      args.r = s.r_.data() + o;
      args.w = s.w.data() + o;
      args.k = s.k.data() + o;
      args.v = s.v.data() + o;
      args.a = s.kk.data() + o;
      args.b = s.b_.data() + o;
      args.y = s.y.data() + o;
      kn.wkv7(args);
    };
    Trace(s, l, "decay w", s.w.data(), n * C);
    Trace(s, l, "k (after k_a)", s.k.data(), n * C);
    Trace(s, l, "v (after the value residual)", s.v.data(), n * C);
    if (n_seq == 1) {
      wkv(0);
    } else {
      KernelPool().ParallelFor(n_seq, 1, [&](int64_t begin, int64_t end) {
        for (int64_t b = begin; b < end; ++b) wkv(b);
      });
    }
    Trace(s, l, "wkv output y", s.y.data(), n * C);
    ForTokens(n, [&](int64_t t) {
      float* y = row(s.y, t, C);
      const float* r = row(s.r_, t, C);
      const float* k = row(s.k, t, C);
      const float* v = row(s.v, t, C);
      const float* g = row(s.g, t, C);
      // y = GroupNorm(y; H groups, eps 64e-5, ln_x)
      GroupNorm(y, L.ln_x_w, L.ln_x_b, H, N, kGroupNormEps);
      // y = y + (Σ_j r_j k_j r_k[h,j]) · v per head ; then y ⊙ g
      for (int64_t hd = 0; hd < H; ++hd) {
        const int64_t o = hd * N;
        float dot = 0.0f;
        for (int64_t j = 0; j < N; ++j) dot += r[o + j] * k[o + j] * L.r_k[o + j];
        for (int64_t j = 0; j < N; ++j) y[o + j] = (y[o + j] + dot * v[o + j]) * g[o + j];
      }
    });
    // x = x + W_o·(y ⊙ g)
    Trace(s, l, "y (after ln_x, bonus, gate)", s.y.data(), n * C);
    Observe(s, l, "time_mix_output", s.y.data(), n, C);
    Project(kn, L.output, s.y.data(), n, s.h.data());
    Trace(s, l, "attention output (W_o·y)", s.h.data(), n * C);
    // ---- channel mix ----
    ForTokens(n, [&](int64_t t) {
      float* x = row(s.x, t, C);
      const float* out = row(s.h, t, C);
      for (int64_t c = 0; c < C; ++c) x[c] += out[c];
      LayerNorm(x, L.ln2_w, L.ln2_b, C, kLayerNormEps, row(s.xv, t, C));
    });
    for (int64_t b = 0; b < n_seq; ++b) shifts[b] = states[static_cast<size_t>(b)]->ffn_shift(l);
    ForTokens(n, [&](int64_t t) { Lerp(row(s.xv, t, C), prev_row(s.xv, t, shifts), L.ffn_x_k, C, row(s.xk, t, C)); });
    StoreShifts(s.xv.data(), shifts, n_seq, per_seq, C);
    // x = x + W_v_ffn · relu(W_k_ffn · xk)²
    Trace(s, l, "ln2", s.xv.data(), n * C);
    Observe(s, l, "channel_mix_key", s.xk.data(), n, C);
    Project(kn, L.ffn_key, s.xk.data(), n, s.hidden.data());
    ForTokens(n, [&](int64_t t) { Apply(row(s.hidden, t, F), F, [](float q) { return q > 0.0f ? q * q : 0.0f; }); });
    Trace(s, l, "ffn hidden (relu(W_k_ffn·xk)²)", s.hidden.data(), n * F);
    Observe(s, l, "channel_mix_value", s.hidden.data(), n, F);
    Project(kn, L.ffn_value, s.hidden.data(), n, s.h.data());
    Trace(s, l, "ffn output (W_v_ffn·hidden)", s.h.data(), n * C);
    ForTokens(n, [&](int64_t t) {
      float* x = row(s.x, t, C);
      const float* out = row(s.h, t, C);
      for (int64_t c = 0; c < C; ++c) x[c] += out[c];
    });
  }
}

// logits[i] = head · LayerNorm(x; ln_out) for rows first … first + n − 1 of the window, in one
// pass over the head (it is the largest matrix: reading it once per row would dominate).
void Head(const Weights& W, const CpuKernels& kn, Session::Scratch& s, int64_t first, int64_t n,
          float* logits) {
  const int64_t C = W.config().n_embd;
  float* h = s.h.data() + first * C;
  for (int64_t t = 0; t < n; ++t) {
    LayerNorm(s.x.data() + (first + t) * C, W.ln_out_w, W.ln_out_b, C, kLayerNormEps, h + t * C);
  }
  Trace(s, W.config().n_layer, "ln_out", h, n * C);
  Observe(s, -1, "output", h, n, C);
  Project(kn, W.head, h, n, logits);
  Trace(s, W.config().n_layer, "logits (head·ln_out)", logits, n * W.config().n_vocab);
}

}  // namespace

std::span<const float> Session::Step(State& state, int token) {
  ANSER_CHECK(token >= 0 && token < model_->config().n_vocab, "token id out of range");
  ANSER_CHECK(state.SameShape(model_->config()), "state does not match the model");
  const CpuKernels& kn = SelectKernels();
  State* one[] = {&state};
  ForwardWindow(model_->weights(), kn, *scratch_, one, 1, &token);
  Head(model_->weights(), kn, *scratch_, 0, 1, scratch_->logits.data());
  return scratch_->logits;
}

void Session::CollectActivations(ActivationStats* stats) { scratch_->stats = stats; }

std::optional<NonFiniteSite> Session::FindNonFinite(const State& state, int token) {
  State copy = state;
  std::optional<NonFiniteSite> first;
  scratch_->trace = &first;
  Step(copy, token);
  scratch_->trace = nullptr;
  return first;
}

void Session::Prefill(State& state, std::span<const int> tokens, bool all_positions,
                      std::vector<float>* logits) {
  const ModelConfig& cfg = model_->config();
  ANSER_CHECK(state.SameShape(cfg), "state does not match the model");
  for (int t : tokens) ANSER_CHECK(t >= 0 && t < cfg.n_vocab, "token id out of range");
  const CpuKernels& kn = SelectKernels();
  const int64_t total = static_cast<int64_t>(tokens.size());
  const int64_t V = cfg.n_vocab;
  logits->assign(static_cast<size_t>(total == 0 ? 0 : (all_positions ? total : 1) * V), 0.0f);
  const int64_t window = scratch_->window;
  for (int64_t start = 0; start < total; start += window) {
    const int64_t n = std::min(window, total - start);
    State* one[] = {&state};
    ForwardWindow(model_->weights(), kn, *scratch_, one, n, tokens.data() + start);
    if (all_positions) {
      Head(model_->weights(), kn, *scratch_, 0, n, logits->data() + start * V);
    } else if (start + n == total) {
      Head(model_->weights(), kn, *scratch_, n - 1, 1, logits->data());
    }
  }
}

void Session::StepBatch(std::span<State* const> states, std::span<const int> tokens,
                        std::vector<float>* logits) {
  const ModelConfig& cfg = model_->config();
  ANSER_CHECK(states.size() == tokens.size(), "one token per state");
  for (size_t b = 0; b < states.size(); ++b) {
    ANSER_CHECK(states[b]->SameShape(cfg), "state does not match the model");
    ANSER_CHECK(tokens[b] >= 0 && tokens[b] < cfg.n_vocab, "token id out of range");
    for (size_t c = 0; c < b; ++c) ANSER_CHECK(states[b] != states[c], "a state appears twice in a batch");
  }
  const CpuKernels& kn = SelectKernels();
  const int64_t total = static_cast<int64_t>(states.size());
  const int64_t V = cfg.n_vocab;
  logits->resize(static_cast<size_t>(total * V));
  const int64_t window = scratch_->window;
  for (int64_t start = 0; start < total; start += window) {
    const int64_t n = std::min(window, total - start);
    ForwardWindow(model_->weights(), kn, *scratch_, states.subspan(static_cast<size_t>(start), static_cast<size_t>(n)),
                  1, tokens.data() + start);
    Head(model_->weights(), kn, *scratch_, 0, n, logits->data() + start * V);
  }
}

}  // namespace anser
