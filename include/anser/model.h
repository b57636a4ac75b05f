// RWKV-7 (x070) model, recurrent state and a session that runs the forward pass.
//
// A Model is immutable after loading and may be shared by many Sessions and States.
// A State holds one sequence's recurrence; a Session holds scratch buffers and is not
// thread-safe (one per thread).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "anser/status.h"

namespace anser {

struct LoraRanks {
  int w = 0, a = 0, v = 0, g = 0;
};

// Switches that change the x070 time mix: the ablations of the RWKV-7 paper (App. K) and its
// removal-term multiplier (App. C). The default is the released model. A model file written
// with a switch carries it (model/variant.h), and loading honours it.
struct ModelVariant {
  bool no_delta = false;      // "delta": no removal term, S·diag(w) + v·k̃ᵀ (a diagonal recurrence)
  bool scalar_decay = false;  // "scalar-decay": one decay per head
  bool scalar_iclr = false;   // "scalar-iclr": one in-context learning rate per head
  bool shared_keys = false;   // "shared-keys": removal key κ̂ = normalize(k), replacement key k̃ = k
  bool no_bonus = false;      // "no-bonus": no (r·k·r_k)·v term
  double iclr_mult = 1.0;     // the removal term times this (the paper's proofs use 2)

  bool IsDefault() const;
  // The removal term's factor: 0 without the delta rule, else iclr_mult.
  double removal_scale() const { return no_delta ? 0.0 : iclr_mult; }
  // "full", or the ablations in the order above joined by '+' ("delta+no-bonus"); iclr_mult
  // is not part of it.
  std::string Name() const;
  bool operator==(const ModelVariant&) const = default;
};

// The ablations named in `list` ("delta", "scalar-decay", "scalar-iclr", "shared-keys",
// "no-bonus", comma-separated, "" or "full" for none) with the removal multiplier `iclr_mult`
// (finite, ≥ 0; any value other than 1 together with "delta" is refused).
Result<ModelVariant> ParseModelVariant(const std::string& list, double iclr_mult);

struct ModelConfig {
  int n_layer = 0;
  int n_embd = 0;
  int n_head = 0;
  int head_size = 0;
  int n_ffn = 0;
  int n_vocab = 0;
  LoraRanks lora_ranks;
  ModelVariant variant;
};

// Official parameter count: 2·V·C + 4·C + L·(19·C + 12·C² + 2·C·(r_w+r_a+r_v+r_g)) generalised
// to any FFN width (layer 0's unused v0/v1/v2 counted, as official files carry them).
int64_t CountParams(const ModelConfig& config);

// The official shapes "0.1b", "0.4b", "1.5b", "2.9b" (World vocabulary, head size 64).
Result<ModelConfig> OfficialShape(const std::string& name);

class Weights;  // defined in src/model
struct TensorView;  // defined in src/io
class TensorStore;  // defined in src/io

// Where a model's block-quantized matrices are put in memory. kKernels rearranges them in place,
// once, into the layout the selected kernel table reads fastest: for running the model. kStored
// keeps the bytes of the file: for reading the tensors themselves (convert, training).
enum class WeightLayout { kKernels, kStored };

class Model {
 public:
  // `path` is an official `.pth` file, a Hugging Face folder (config.json + *.safetensors) or
  // a GGUF file of llama.cpp's rwkv7 architecture.
  static Result<std::shared_ptr<const Model>> Load(const std::string& path,
                                                   WeightLayout layout = WeightLayout::kKernels);
  // Random weights of `config`, in memory, stored as `dtype`: "f32", "f16", "bf16", or a block
  // type ("q8_0", "q5_0", "q4_0", "q4_1") with each tensor typed as `anser quantize` types it.
  static Result<std::shared_ptr<const Model>> Random(const ModelConfig& config,
                                                     const std::string& dtype, uint64_t seed,
                                                     WeightLayout layout = WeightLayout::kKernels);
  ~Model();

  const ModelConfig& config() const { return config_; }
  int64_t params() const;                               // counted from the loaded tensors
  // Tensors per stored type: "bf16" → n; GGUF types by ggml's names ("q4_K", "iq4_xs").
  const std::map<std::string, int>& dtype_counts() const { return dtype_counts_; }
  // Stored types that run as another, converted at load: "q4_K" → "q8_0".
  const std::map<std::string, std::string>& converted_dtypes() const { return converted_dtypes_; }
  int64_t weight_bytes() const;                         // bytes of all tensors as stored
  // Bytes read per decoded token: every tensor but the embedding, plus one embedding row.
  int64_t weight_bytes_per_token() const;
  const std::string& source() const { return source_; }
  const Weights& weights() const { return *weights_; }

 private:
  Model() = default;
  ModelConfig config_;
  std::map<std::string, int> dtype_counts_;
  std::map<std::string, std::string> converted_dtypes_;
  std::string source_;
  std::unique_ptr<Weights> weights_;
  friend class ModelBuilder;
};

// Per layer: time-mix shift (n_embd), WKV matrices (n_head × head_size × head_size, row = value
// index, column = key index), channel-mix shift (n_embd). All float32. Zero-initialised.
class State {
 public:
  State() = default;
  explicit State(const ModelConfig& config);

  void Reset();
  bool SameShape(const ModelConfig& config) const;

  float* att_shift(int layer) { return att_shift_.data() + layer * n_embd_; }
  float* ffn_shift(int layer) { return ffn_shift_.data() + layer * n_embd_; }
  float* wkv(int layer) { return wkv_.data() + layer * wkv_layer_size(); }
  const float* att_shift(int layer) const { return att_shift_.data() + layer * n_embd_; }
  const float* ffn_shift(int layer) const { return ffn_shift_.data() + layer * n_embd_; }
  const float* wkv(int layer) const { return wkv_.data() + layer * wkv_layer_size(); }

  // The state file: a torch.load-able dict {wkv: [L,H,N,N], att_shift: [L,C], ffn_shift: [L,C]}.
  Status Save(const std::string& path) const;
  static Result<State> Load(const std::string& path, const ModelConfig& config);
  // The bytes of the state file, and a state from them (checked against `config`'s shapes).
  Result<std::string> Serialize() const;
  static Result<State> Deserialize(std::string bytes, const ModelConfig& config);

  bool AllFinite() const;  // no NaN or infinity anywhere
  int64_t bytes() const;   // of the three float buffers

  bool operator==(const State& other) const = default;

 private:
  std::vector<TensorView> Views() const;
  static Result<State> FromStore(const TensorStore& store, const std::string& source, const ModelConfig& config);
  int64_t wkv_layer_size() const { return int64_t{n_head_} * head_size_ * head_size_; }
  int n_layer_ = 0, n_embd_ = 0, n_head_ = 0, head_size_ = 0;
  std::vector<float> att_shift_;  // (n_layer, n_embd)
  std::vector<float> wkv_;        // (n_layer, n_head, head_size, head_size)
  std::vector<float> ffn_shift_;  // (n_layer, n_embd)
};

// Where a forward pass first produced a value that is not finite (NaN or ±Inf).
struct NonFiniteSite {
  int layer = -1;        // the block; -1 the embedding, n_layer the head
  std::string quantity;  // "wkv state", "k (W_k·xk)", "ffn hidden", "logits", …
};

// True when no value is NaN or ±Inf. Cheap (one pass, vectorized): run on the logits of every
// token before sampling.
bool AllFinite(std::span<const float> values);

struct SessionOptions {
  int threads = 0;  // kernel threads, process-wide (the last Session created sets it); 0 = all cores
};

class ActivationStats;  // src/model/activation_stats.h

class Session {
 public:
  explicit Session(std::shared_ptr<const Model> model, SessionOptions options = {});
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  const Model& model() const { return *model_; }

  // One token through the RNN path. Returns the logits (n_vocab floats), valid until the next
  // call on this Session. `token` must be in [0, n_vocab).
  std::span<const float> Step(State& state, int token);

  // The sequence path: all tokens through each layer before the next, in windows of at most
  // 512 tokens (fewer for wide models, so the buffers stay within 16 MB) with the state
  // carried. Writes the logits of the last position, or of every position when
  // `all_positions` ([n_tokens][n_vocab]), into `logits`. Empty `tokens` leaves the state and
  // clears `logits`.
  void Prefill(State& state, std::span<const int> tokens, bool all_positions,
               std::vector<float>* logits);

  // Batched decode: advances len(states) independent sequences by one token each (states[b]
  // takes tokens[b]; every state distinct) in one pass of matrix–matrix products. Writes the
  // logits [B][n_vocab] into `logits`. Equivalent to Step on each state in turn.
  void StepBatch(std::span<State* const> states, std::span<const int> tokens,
                 std::vector<float>* logits);

  // Diagnoses non-finite logits: runs `token` through the step from a copy of `state` (left as
  // it is) with every intermediate quantity checked, and returns the first one that holds a NaN
  // or an infinity (nullopt if none does). Several times slower than Step: for the error path.
  std::optional<NonFiniteSite> FindNonFinite(const State& state, int token);

  // From now on, adds the inputs of every large matrix (projections, FFN, head) of each run to
  // `stats` (null stops): what `anser imatrix` collects. The head's inputs are those of the
  // positions whose logits are computed.
  void CollectActivations(ActivationStats* stats);

  struct Scratch;  // per-session buffers, defined with the forward pass

 private:
  std::shared_ptr<const Model> model_;
  std::unique_ptr<Scratch> scratch_;
};

// For the error that stops a generation whose logits are not finite: "the first non-finite value
// is in layer 1, ffn output (W_v_ffn·hidden) (found by a checked re-run of token 82)", from
// session.FindNonFinite(state, token).
std::string DescribeNonFinite(Session& session, const State& state, int token);

}  // namespace anser
