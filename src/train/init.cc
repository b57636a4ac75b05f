#include "train/init.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "train/orthogonal_init.h"
#include "train/rng.h"

namespace anser {
namespace {

int RoundedRank(int n_embd, double exponent, double factor) {
  const double r =
      std::round(factor * std::pow(static_cast<double>(n_embd), exponent) / 32.0) * 32.0;
  return std::max(32, static_cast<int>(r));
}

}  // namespace

LoraRanks OfficialLoraRanks(int n_embd) {
  LoraRanks r;
  r.w = RoundedRank(n_embd, 0.5, 1.8);
  r.a = RoundedRank(n_embd, 0.5, 1.8);
  r.v = RoundedRank(n_embd, 0.5, 1.3);
  r.g = RoundedRank(n_embd, 0.8, 0.6);
  return r;
}

Result<ModelConfig> ScratchConfig(int n_layer, int n_embd, int head_size, int n_vocab) {
  if (n_layer <= 0 || n_embd <= 0 || head_size <= 0 || n_vocab <= 0) {
    return Status::Error(
        "[train] --layers, --width, --head-size and the vocabulary must be positive");
  }
  if (n_embd % head_size != 0) {
    return Status::Error("[train] --width " + std::to_string(n_embd) +
                         " is not a multiple of --head-size " + std::to_string(head_size));
  }
  if (head_size < 2) return Status::Error("[train] --head-size must be at least 2");
  ModelConfig c;
  c.n_layer = n_layer;
  c.n_embd = n_embd;
  c.head_size = head_size;
  c.n_head = n_embd / head_size;
  c.n_ffn = 4 * n_embd;
  c.n_vocab = n_vocab;
  c.lora_ranks = OfficialLoraRanks(n_embd);
  return c;
}

Result<ParamSet> InitParams(const ModelConfig& c, uint64_t seed, int threads) {
  if (c.n_layer <= 0 || c.n_embd < 2 || c.head_size < 2 || c.n_head * c.head_size != c.n_embd ||
      c.n_ffn <= 0 || c.n_vocab <= 0 || c.lora_ranks.w <= 0 || c.lora_ranks.a <= 0 ||
      c.lora_ranks.v <= 0 || c.lora_ranks.g <= 0) {
    return Status::Error("[train] invalid model configuration for initialisation");
  }
  SplitMix64 rng(seed);
  ParamSet p(c);
  const int64_t C = c.n_embd, N = c.head_size, F = c.n_ffn, V = c.n_vocab;
  const int L = c.n_layer;
  const std::vector<int64_t> vec{1, 1, C};
  auto add = [&p](const std::string& name, std::vector<int64_t> shape) {
    p.Add(name, std::move(shape));
    return p.Find(name);
  };
  auto fill = [C](float* d, auto&& f) {
    for (int64_t n = 0; n < C; ++n) d[n] = static_cast<float>(f(n));
  };
  auto ortho = [&](const std::string& name, int64_t rows, int64_t cols, double gain) {
    OrthogonalInit(add(name, {rows, cols}), rows, cols, gain, rng, threads);
  };

  float* emb = add("emb.weight", {V, C});
  for (int64_t i = 0; i < V * C; ++i) emb[i] = static_cast<float>(1e-4 * rng.Uniform());
  fill(add("blocks.0.ln0.weight", {C}), [](int64_t) { return 1.0; });
  add("blocks.0.ln0.bias", {C});

  const double Cm1 = static_cast<double>(std::max<int64_t>(C - 1, 1));
  const double half = (static_cast<double>(N) - 1.0) / 2.0;
  auto d = [C](int64_t n) { return static_cast<double>(n) / static_cast<double>(C); };
  auto lin = [Cm1](int64_t n) { return static_cast<double>(n) / Cm1 - 0.5; };
  auto zig = [N, half](int64_t n) {
    const double z = (static_cast<double>(n % N) - half) / half;
    return z * std::abs(z);
  };
  for (int l = 0; l < L; ++l) {
    const std::string b = "blocks." + std::to_string(l) + ".";
    const std::string a = b + "att.";
    const double r0 = L > 1 ? static_cast<double>(l) / (L - 1) : 0.0;
    const double r1 = 1.0 - static_cast<double>(l) / L;
    fill(add(b + "ln1.weight", {C}), [](int64_t) { return 1.0; });
    add(b + "ln1.bias", {C});
    fill(add(b + "ln2.weight", {C}), [](int64_t) { return 1.0; });
    add(b + "ln2.bias", {C});
    auto mix = [&](const char* name, double e) {
      fill(add(a + name, vec), [&](int64_t n) { return 1.0 - std::pow(d(n), e * r1); });
    };
    mix("x_r", 0.2), mix("x_w", 0.9), mix("x_k", 0.7), mix("x_v", 0.7), mix("x_a", 0.9),
        mix("x_g", 0.2);
    fill(add(a + "w0", vec), [&](int64_t n) {
      return -6.0 + 6.0 * std::pow(static_cast<double>(n) / Cm1, 1.0 + std::pow(r0, 0.3)) + 0.5 +
             2.5 * zig(n);
    });
    add(a + "w1", {C, c.lora_ranks.w});
    ortho(a + "w2", c.lora_ranks.w, C, 0.1);
    fill(add(a + "a0", vec), [&](int64_t n) { return -0.19 + 0.3 * zig(n) + 0.4 * lin(n); });
    add(a + "a1", {C, c.lora_ranks.a});
    ortho(a + "a2", c.lora_ranks.a, C, 0.1);
    fill(add(a + "v0", vec), [&](int64_t n) { return 0.73 - 0.4 * lin(n); });
    add(a + "v1", {C, c.lora_ranks.v});
    ortho(a + "v2", c.lora_ranks.v, C, 0.1);
    add(a + "g1", {C, c.lora_ranks.g});
    ortho(a + "g2", c.lora_ranks.g, C, 0.1);
    fill(add(a + "k_k", vec), [&](int64_t n) { return 0.71 - 0.1 * lin(n); });
    fill(add(a + "k_a", vec), [](int64_t) { return 1.02; });
    float* r_k = add(a + "r_k", {c.n_head, N});
    std::fill(r_k, r_k + C, -0.04f);
    ortho(a + "receptance.weight", C, C, 1.0);
    ortho(a + "key.weight", C, C, 0.1);
    ortho(a + "value.weight", C, C, 1.0);
    add(a + "output.weight", {C, C});
    const double ln_x = std::pow(static_cast<double>(l + 1) / L, 0.7);
    fill(add(a + "ln_x.weight", {C}), [ln_x](int64_t) { return ln_x; });
    add(a + "ln_x.bias", {C});
    fill(add(b + "ffn.x_k", vec),
         [&](int64_t n) { return 1.0 - std::pow(d(n), std::pow(r1, 4.0)); });
    ortho(b + "ffn.key.weight", F, C, 1.0);
    add(b + "ffn.value.weight", {C, F});
  }
  fill(add("ln_out.weight", {C}), [](int64_t) { return 1.0; });
  add("ln_out.bias", {C});
  ortho("head.weight", V, C, 0.5);
  return p;
}

}  // namespace anser
