#include "model/weights.h"

#include <algorithm>
#include <cstring>
#include <set>

#include "core/mapped_file.h"
#include "kernels/quantize.h"
#include "model/variant.h"

namespace anser {
namespace {

std::string ShapeString(const std::vector<int64_t>& shape) {
  TensorView v;
  v.shape = shape;
  return v.ShapeString();
}

// Names that identify RWKV variants or versions Anser does not run.
Status CheckVariant(const TensorStore& store) {
  for (const TensorView& t : store.tensors()) {
    const std::string& n = t.name;
    if (n.find("ffn.s_emb") != std::string::npos || n.find("ffn.s1") != std::string::npos) {
      return Status::Error("[model] " + store.source() + " is an RWKV-7a \"DeepEmbed\" model (tensor '" +
                           n + "'); Anser runs RWKV-7 x070 models only");
    }
    if (n.find("qq.weight") != std::string::npos) {
      return Status::Error("[model] " + store.source() + " is an RWKV-7b \"DEA\" model (tensor '" + n +
                           "'); Anser runs RWKV-7 x070 models only");
    }
    if (n.find("att.time_decay") != std::string::npos || n.find("att.time_first") != std::string::npos ||
        n.find("att.time_mix_") != std::string::npos || n.find("att.time_maa_") != std::string::npos ||
        n.find("att.time_faaaa") != std::string::npos) {
      return Status::Error("[model] " + store.source() + " is an older RWKV model (v4/v5/v6: tensor '" + n +
                           "'); Anser runs RWKV-7 x070 models only");
    }
  }
  if (store.Find("emb.weight") == nullptr || store.Find("blocks.0.att.r_k") == nullptr) {
    return Status::Error("[model] " + store.source() +
                         " is not an RWKV-7 checkpoint: it lacks 'emb.weight' or 'blocks.0.att.r_k'");
  }
  return Status::Ok();
}

// Largest N+1 over names "blocks.N.…", checking that every layer in between appears.
Result<int> CountLayers(const TensorStore& store) {
  std::set<int> seen;
  for (const TensorView& t : store.tensors()) {
    if (t.name.rfind("blocks.", 0) != 0) continue;
    const size_t dot = t.name.find('.', 7);
    const std::string num = t.name.substr(7, dot == std::string::npos ? std::string::npos : dot - 7);
    if (num.empty() || num.size() > 6 || !std::all_of(num.begin(), num.end(), ::isdigit)) {
      return Status::Error("[model] unexpected tensor '" + t.name + "' in " + store.source());
    }
    seen.insert(std::stoi(num));
  }
  const int n = seen.empty() ? 0 : *seen.rbegin() + 1;
  if (n == 0 || static_cast<int>(seen.size()) != n) {
    return Status::Error("[model] " + store.source() + ": layers are not numbered 0.." +
                         std::to_string(n - 1) + " without gaps");
  }
  return n;
}

}  // namespace

// Checks names and shapes one tensor at a time and converts the small ones.
class WeightsBuilder {
 public:
  explicit WeightsBuilder(Weights& w) : w_(w), store_(w.store_) {}

  Status Run() {
    ANSER_RETURN_IF_ERROR(CheckVariant(store_));
    ModelConfig& c = w_.config_;
    const TensorView* emb = store_.Find("emb.weight");
    if (emb->shape.size() != 2) return Mismatch(*emb, "(n_vocab, n_embd)");
    c.n_vocab = static_cast<int>(emb->shape[0]);
    c.n_embd = static_cast<int>(emb->shape[1]);
    ANSER_ASSIGN_OR_RETURN(c.n_layer, CountLayers(store_));
    const TensorView* r_k = store_.Find("blocks.0.att.r_k");
    if (r_k->shape.size() != 2 || r_k->shape[0] * r_k->shape[1] != c.n_embd) {
      return Mismatch(*r_k, "(n_head, head_size) with n_head·head_size = " + std::to_string(c.n_embd));
    }
    c.n_head = static_cast<int>(r_k->shape[0]);
    c.head_size = static_cast<int>(r_k->shape[1]);
    ANSER_ASSIGN_OR_RETURN(c.lora_ranks.w, Dim("blocks.0.att.w1", 1));
    ANSER_ASSIGN_OR_RETURN(c.lora_ranks.a, Dim("blocks.0.att.a1", 1));
    ANSER_ASSIGN_OR_RETURN(c.lora_ranks.g, Dim("blocks.0.att.g1", 1));
    const std::string v1 = c.n_layer > 1 ? "blocks.1.att.v1" : "blocks.0.att.v1";
    if (store_.Find(v1) != nullptr) {
      ANSER_ASSIGN_OR_RETURN(c.lora_ranks.v, Dim(v1, 1));
    } else if (c.n_layer > 1) {
      return Status::Error("[model] tensor '" + v1 + "' is missing in " + store_.source());
    }
    ANSER_ASSIGN_OR_RETURN(c.n_ffn, Dim("blocks.0.ffn.key.weight", 0));
    ANSER_ASSIGN_OR_RETURN(c.variant, VariantFromStore(store_));
    for (const TensorView& t : store_.tensors()) {
      if (IsSwitchTensorName(t.name)) used_.insert(t.name);
    }

    const int64_t C = c.n_embd;
    ANSER_ASSIGN_OR_RETURN(w_.emb, Matrix("emb.weight", c.n_vocab, C));
    ANSER_ASSIGN_OR_RETURN(w_.head, Projection("head.weight", c.n_vocab, C));
    ANSER_ASSIGN_OR_RETURN(w_.ln0_w, Vector("blocks.0.ln0.weight", C));
    ANSER_ASSIGN_OR_RETURN(w_.ln0_b, Vector("blocks.0.ln0.bias", C));
    ANSER_ASSIGN_OR_RETURN(w_.ln_out_w, Vector("ln_out.weight", C));
    ANSER_ASSIGN_OR_RETURN(w_.ln_out_b, Vector("ln_out.bias", C));
    w_.layers_.resize(static_cast<size_t>(c.n_layer));
    for (int l = 0; l < c.n_layer; ++l) ANSER_RETURN_IF_ERROR(Layer(l, w_.layers_[static_cast<size_t>(l)]));

    for (const TensorView& t : store_.tensors()) {
      if (used_.count(t.name) == 0) {
        return Status::Error("[model] unexpected tensor '" + t.name + "' " + t.ShapeString() + " in " +
                             store_.source() + ": not part of the RWKV-7 x070 layout");
      }
      if (t.layout != MatLayout::kRows && projections_.count(t.name) == 0) {
        return Status::Error("[model] tensor '" + t.name + "' is stored packed (" +
                             std::string(MatLayoutName(t.layout)) + ") in " + store_.source() +
                             ": only the projections and the head can be");
      }
    }
    return Status::Ok();
  }

 private:
  Status Layer(int l, LayerWeights& L) {
    const ModelConfig& c = w_.config_;
    const int64_t C = c.n_embd;
    const std::string p = "blocks." + std::to_string(l) + ".";
    const std::string a = p + "att.";
    ANSER_ASSIGN_OR_RETURN(L.ln1_w, Vector(p + "ln1.weight", C));
    ANSER_ASSIGN_OR_RETURN(L.ln1_b, Vector(p + "ln1.bias", C));
    ANSER_ASSIGN_OR_RETURN(L.ln2_w, Vector(p + "ln2.weight", C));
    ANSER_ASSIGN_OR_RETURN(L.ln2_b, Vector(p + "ln2.bias", C));
    ANSER_ASSIGN_OR_RETURN(L.x_r, Vector(a + "x_r", C));
    ANSER_ASSIGN_OR_RETURN(L.x_w, Vector(a + "x_w", C));
    ANSER_ASSIGN_OR_RETURN(L.x_k, Vector(a + "x_k", C));
    ANSER_ASSIGN_OR_RETURN(L.x_v, Vector(a + "x_v", C));
    ANSER_ASSIGN_OR_RETURN(L.x_a, Vector(a + "x_a", C));
    ANSER_ASSIGN_OR_RETURN(L.x_g, Vector(a + "x_g", C));
    ANSER_ASSIGN_OR_RETURN(L.w0, Vector(a + "w0", C));
    ANSER_ASSIGN_OR_RETURN(L.a0, Vector(a + "a0", C));
    ANSER_ASSIGN_OR_RETURN(L.k_k, Vector(a + "k_k", C));
    ANSER_ASSIGN_OR_RETURN(L.k_a, Vector(a + "k_a", C));
    ANSER_ASSIGN_OR_RETURN(L.r_k, Vector(a + "r_k", C, {c.n_head, c.head_size}));
    ANSER_ASSIGN_OR_RETURN(L.ln_x_w, Vector(a + "ln_x.weight", C));
    ANSER_ASSIGN_OR_RETURN(L.ln_x_b, Vector(a + "ln_x.bias", C));
    ANSER_ASSIGN_OR_RETURN(L.ffn_x_k, Vector(p + "ffn.x_k", C));
    ANSER_ASSIGN_OR_RETURN(L.w1, Lora(a + "w1", C, c.lora_ranks.w));
    ANSER_ASSIGN_OR_RETURN(L.w2, Lora(a + "w2", c.lora_ranks.w, C));
    ANSER_ASSIGN_OR_RETURN(L.a1, Lora(a + "a1", C, c.lora_ranks.a));
    ANSER_ASSIGN_OR_RETURN(L.a2, Lora(a + "a2", c.lora_ranks.a, C));
    ANSER_ASSIGN_OR_RETURN(L.g1, Lora(a + "g1", C, c.lora_ranks.g));
    ANSER_ASSIGN_OR_RETURN(L.g2, Lora(a + "g2", c.lora_ranks.g, C));
    // Layer 0's value residual is unused; official files may still carry v0/v1/v2 there.
    const bool has_v = l > 0 || store_.Find(a + "v0") != nullptr || store_.Find(a + "v1") != nullptr ||
                       store_.Find(a + "v2") != nullptr;
    L.v0 = nullptr;
    if (has_v) {
      ANSER_ASSIGN_OR_RETURN(L.v0, Vector(a + "v0", C));
      ANSER_ASSIGN_OR_RETURN(L.v1, Lora(a + "v1", C, c.lora_ranks.v));
      ANSER_ASSIGN_OR_RETURN(L.v2, Lora(a + "v2", c.lora_ranks.v, C));
      if (l == 0) L.v0 = nullptr;
    }
    ANSER_ASSIGN_OR_RETURN(L.receptance, Projection(a + "receptance.weight", C, C));
    ANSER_ASSIGN_OR_RETURN(L.key, Projection(a + "key.weight", C, C));
    ANSER_ASSIGN_OR_RETURN(L.value, Projection(a + "value.weight", C, C));
    ANSER_ASSIGN_OR_RETURN(L.output, Projection(a + "output.weight", C, C));
    ANSER_ASSIGN_OR_RETURN(L.ffn_key, Projection(p + "ffn.key.weight", c.n_ffn, C));
    ANSER_ASSIGN_OR_RETURN(L.ffn_value, Projection(p + "ffn.value.weight", C, c.n_ffn));
    ApplyVariant(a, L);
    return Status::Ok();
  }

  // The switches that change weights rather than formulas (model/variant.h), so the forward
  // pass runs the x070 formulas unchanged: the scalar ablations average w0 and w2 (a0 and a2)
  // within each head; shared keys make k_k = 1 and k_a = 0 (κ̂ = normalize(k), k̃ = k); no
  // bonus makes r_k = 0. Only the removal multiplier is applied in the forward pass itself.
  void ApplyVariant(const std::string& a, LayerWeights& L) {
    const ModelConfig& c = w_.config_;
    const ModelVariant& v = c.variant;
    const int64_t C = c.n_embd, N = c.head_size;
    auto per_head = [&](const std::string& bias, const std::string& lora, int rank, const float** b,
                        MatRef* m) {
      float* bv = ToF32(*store_.Find(a + bias), false);
      AverageWithinHeads(bv, 1, C, N, C, 1);
      *b = bv;
      // Kept transposed, (C, rank): channel c of LoRA column r is at c·rank + r.
      float* mt = ToF32(*store_.Find(a + lora), true);
      AverageWithinHeads(mt, rank, C, N, 1, rank);
      *m = MatRef{DType::kF32, mt, C, rank};
    };
    if (v.scalar_decay) per_head("w0", "w2", c.lora_ranks.w, &L.w0, &L.w2);
    if (v.scalar_iclr) per_head("a0", "a2", c.lora_ranks.a, &L.a0, &L.a2);
    auto constant = [&](float value) {
      auto* out = static_cast<float*>(store_.Allocate(static_cast<size_t>(C) * sizeof(float)));
      std::fill(out, out + C, value);
      return out;
    };
    if (v.shared_keys) L.k_k = constant(1.0f), L.k_a = constant(0.0f);
    if (v.no_bonus) L.r_k = constant(0.0f);
  }

  Result<const TensorView*> Get(const std::string& name, const std::string& expected) {
    const TensorView* t = store_.Find(name);
    if (t == nullptr) {
      return Status::Error("[model] tensor '" + name + "' " + expected + " is missing in " + store_.source());
    }
    const bool numeric = t->dtype == DType::kF32 || t->dtype == DType::kF16 || t->dtype == DType::kBF16 ||
                         DTypeIsBlock(t->dtype);
    if (!numeric) {
      return Status::Error("[model] tensor '" + name + "' has type " + std::string(DTypeName(t->dtype)) +
                           " in " + store_.source() + "; expected a float or block-quantized type");
    }
    const int64_t cols = t->shape.empty() ? 1 : t->shape.back();
    if (DTypeIsBlock(t->dtype) && cols % DTypeBlockElems(t->dtype) != 0) {
      return Status::Error("[model] tensor '" + name + "' is " + std::string(DTypeName(t->dtype)) +
                           " but its rows of " + std::to_string(cols) + " are not whole blocks of " +
                           std::to_string(DTypeBlockElems(t->dtype)) + " in " + store_.source());
    }
    used_.insert(name);
    return t;
  }

  Status Mismatch(const TensorView& t, const std::string& expected) {
    return Status::Error("[model] tensor '" + t.name + "': expected " + expected + ", got " +
                         t.ShapeString() + " in " + store_.source());
  }

  Result<int> Dim(const std::string& name, int axis) {
    ANSER_ASSIGN_OR_RETURN(const TensorView* t, Get(name, "(2-D)"));
    if (t->shape.size() != 2) return Mismatch(*t, "a 2-D matrix");
    return static_cast<int>(t->shape[static_cast<size_t>(axis)]);
  }

  // A vector of n values stored as (n), (1, n), (1, 1, n) or `alt` (r_k's (H, N)); as float32.
  Result<const float*> Vector(const std::string& name, int64_t n, std::vector<int64_t> alt = {}) {
    const std::string expected = ShapeString(alt.empty() ? std::vector<int64_t>{1, 1, n} : alt);
    ANSER_ASSIGN_OR_RETURN(const TensorView* t, Get(name, expected));
    bool ok = t->numel() == n && (t->shape == alt || t->shape.back() == n);
    if (!ok) return Mismatch(*t, expected);
    return ToF32(*t, false);
  }

  // A LoRA matrix stored (rows, cols) and used as x·M: kept as Mᵀ (cols, rows) float32.
  Result<MatRef> Lora(const std::string& name, int64_t rows, int64_t cols) {
    const std::string expected = ShapeString({rows, cols});
    ANSER_ASSIGN_OR_RETURN(const TensorView* t, Get(name, expected));
    if (t->shape != std::vector<int64_t>{rows, cols}) return Mismatch(*t, expected);
    // The forward reads only the transposed copy: the file's pages of the original go (the
    // store's view of it still reads right, from the file, if anyone asks).
    if (DTypeIsBlock(t->dtype)) {
      float* out = ToF32(*t, true);
      store_.DropFilePages(*t);
      return MatRef{DType::kF32, out, cols, rows};
    }
    // Float types stay as stored (the kernels read them in place): half the memory of f32 for
    // bf16/f16 releases, the same numbers.
    const size_t es = DTypeSize(t->dtype);
    auto* out = static_cast<uint8_t*>(store_.Allocate(t->nbytes()));
    const auto* in = static_cast<const uint8_t*>(t->data);
    for (int64_t r = 0; r < rows; ++r) {
      for (int64_t c = 0; c < cols; ++c) {
        std::memcpy(out + static_cast<size_t>(c * rows + r) * es, in + static_cast<size_t>(r * cols + c) * es, es);
      }
    }
    store_.DropFilePages(*t);
    return MatRef{t->dtype, out, cols, rows};
  }

  Result<MatRef> Matrix(const std::string& name, int64_t rows, int64_t cols) {
    const std::string expected = ShapeString({rows, cols});
    ANSER_ASSIGN_OR_RETURN(const TensorView* t, Get(name, expected));
    if (t->shape != std::vector<int64_t>{rows, cols}) return Mismatch(*t, expected);
    return MatRef{t->dtype, t->data, rows, cols, t->layout};
  }

  // A matrix the kernels multiply by: with WeightLayout::kKernels, block types are packed in
  // place for them (the store's memory is its own buffers or a private file mapping, so the
  // file never changes). Where the memory cannot be made writable they stay as stored, which
  // the kernels read as well. A matrix a packed file holds in the selected table's layout is
  // read in place and never written, so its pages stay the file's (shared between processes);
  // in another layout it is unpacked to the stored rows first (and packed again for the table).
  Result<MatRef> Projection(const std::string& name, int64_t rows, int64_t cols) {
    ANSER_ASSIGN_OR_RETURN(MatRef m, Matrix(name, rows, cols));
    projections_.insert(name);
    const MatLayout want =
        w_.layout_ == WeightLayout::kKernels ? PackedLayout(SelectKernels()) : MatLayout::kRows;
    if (m.layout != MatLayout::kRows) {
      w_.file_layout_ = m.layout;
      if (m.layout == want) {
        w_.packed_ = true;
        w_.file_layout_in_place_ = true;
        return m;
      }
      m = Unpacked(*store_.Find(name));
    }
    const size_t bytes = DTypeRowBytes(m.dtype, m.cols) * static_cast<size_t>(m.rows);
    if (w_.layout_ == WeightLayout::kKernels && DTypeIsBlock(m.dtype) && MakeWritable(m.data, bytes)) {
      SelectKernels().pack(m, const_cast<void*>(m.data));
      w_.packed_ = w_.packed_ || m.layout != MatLayout::kRows;
    }
    return m;
  }

  // A packed matrix's stored rows, in a buffer the store owns that replaces the store's view of
  // it (so convert and training read rows); the file's pages of the packed bytes go.
  MatRef Unpacked(const TensorView& t) {
    auto* out = static_cast<uint8_t*>(store_.Allocate(t.nbytes()));
    std::memcpy(out, t.data, t.nbytes());
    MatRef m{t.dtype, out, t.shape[0], t.shape[1], t.layout};
    UnpackMatrix(m, out);
    store_.DropFilePages(t);
    TensorView rows = t;
    rows.data = out;
    rows.layout = MatLayout::kRows;
    store_.Add(std::move(rows));
    return m;
  }

  // Converts to float32 (transposing a 2-D tensor if asked) into a buffer the store owns.
  float* ToF32(const TensorView& t, bool transpose) {
    const int64_t n = t.numel();
    auto* out = static_cast<float*>(store_.Allocate(static_cast<size_t>(n) * sizeof(float)));
    const int64_t cols = t.shape.empty() ? 1 : t.shape.back();
    const int64_t rows = cols == 0 ? 0 : n / cols;
    const size_t row_bytes = DTypeRowBytes(t.dtype, cols);
    std::vector<float> row(static_cast<size_t>(cols));
    for (int64_t r = 0; r < rows; ++r) {
      DequantizeRow(t.dtype, static_cast<const uint8_t*>(t.data) + static_cast<size_t>(r) * row_bytes, cols,
                    row.data());
      for (int64_t c = 0; c < cols; ++c) out[transpose ? c * rows + r : r * cols + c] = row[static_cast<size_t>(c)];
    }
    return out;
  }

  Weights& w_;
  TensorStore& store_;
  std::set<std::string> used_;
  std::set<std::string> projections_;
};

Result<std::unique_ptr<Weights>> Weights::Build(TensorStore store, WeightLayout layout) {
  std::unique_ptr<Weights> w(new Weights(std::move(store), layout));
  ANSER_RETURN_IF_ERROR(WeightsBuilder(*w).Run());
  return w;
}

}  // namespace anser
