// Named pointers into a Params set (parameters or their gradients), bound once by name so the
// forward and backward read `L.w1` rather than looking tensors up. All in the stored layout:
// vectors of n_embd values, LoRA matrices as stored (w1 (n_embd, rank) used as x·w1, w2 (rank,
// n_embd)), projections (out, in) used as W·x.
#pragma once

#include <string>
#include <vector>

#include "core/check.h"
#include "train/params.h"

namespace anser {

template <typename P>  // P is Real or const Real
struct LayerRefs {
  P *ln1_w, *ln1_b, *ln2_w, *ln2_b;
  P *x_r, *x_w, *x_k, *x_v, *x_a, *x_g;
  P *w0, *a0, *v0;                       // v0/v1/v2 null in layer 0 (unused there)
  P *w1, *w2, *a1, *a2, *v1, *v2, *g1, *g2;
  P *k_k, *k_a;
  P* r_k;                                // (n_head, head_size)
  P *ln_x_w, *ln_x_b;
  P *receptance, *key, *value, *output;  // (n_embd, n_embd)
  P* ffn_x_k;
  P* ffn_key;                            // (n_ffn, n_embd)
  P* ffn_value;                          // (n_embd, n_ffn)
};

template <typename P>
struct ModelRefs {
  P *emb, *ln0_w, *ln0_b, *ln_out_w, *ln_out_b, *head;  // emb, head: (n_vocab, n_embd)
  std::vector<LayerRefs<P>> layers;
};

// Binds every tensor of `set` (which Weights::Build validated, so every name is present).
template <typename Set, typename P>
ModelRefs<P> BindRefs(Set& set) {
  auto get = [&set](const std::string& name) -> P* {
    P* p = set.Find(name);
    ANSER_CHECK(p != nullptr, "parameter missing from a validated set");
    return p;
  };
  ModelRefs<P> m;
  m.emb = get("emb.weight");
  m.ln0_w = get("blocks.0.ln0.weight");
  m.ln0_b = get("blocks.0.ln0.bias");
  m.ln_out_w = get("ln_out.weight");
  m.ln_out_b = get("ln_out.bias");
  m.head = get("head.weight");
  for (int l = 0; l < set.config().n_layer; ++l) {
    const std::string p = "blocks." + std::to_string(l) + ".";
    const std::string a = p + "att.";
    LayerRefs<P> L;
    L.ln1_w = get(p + "ln1.weight"), L.ln1_b = get(p + "ln1.bias");
    L.ln2_w = get(p + "ln2.weight"), L.ln2_b = get(p + "ln2.bias");
    L.x_r = get(a + "x_r"), L.x_w = get(a + "x_w"), L.x_k = get(a + "x_k");
    L.x_v = get(a + "x_v"), L.x_a = get(a + "x_a"), L.x_g = get(a + "x_g");
    L.w0 = get(a + "w0"), L.a0 = get(a + "a0");
    L.w1 = get(a + "w1"), L.w2 = get(a + "w2"), L.a1 = get(a + "a1"), L.a2 = get(a + "a2");
    L.g1 = get(a + "g1"), L.g2 = get(a + "g2");
    L.v0 = l == 0 ? nullptr : get(a + "v0");
    L.v1 = l == 0 ? nullptr : get(a + "v1");
    L.v2 = l == 0 ? nullptr : get(a + "v2");
    L.k_k = get(a + "k_k"), L.k_a = get(a + "k_a"), L.r_k = get(a + "r_k");
    L.ln_x_w = get(a + "ln_x.weight"), L.ln_x_b = get(a + "ln_x.bias");
    L.receptance = get(a + "receptance.weight"), L.key = get(a + "key.weight");
    L.value = get(a + "value.weight"), L.output = get(a + "output.weight");
    L.ffn_x_k = get(p + "ffn.x_k");
    L.ffn_key = get(p + "ffn.key.weight"), L.ffn_value = get(p + "ffn.value.weight");
    m.layers.push_back(L);
  }
  return m;
}

template <typename Real>
ModelRefs<Real> Bind(Params<Real>& set) {
  return BindRefs<Params<Real>, Real>(set);
}
template <typename Real>
ModelRefs<const Real> Bind(const Params<Real>& set) {
  return BindRefs<const Params<Real>, const Real>(set);
}

}  // namespace anser
