// Trainable parameters: the checkpoint's tensors under their official `.pth` names and shapes,
// held as plain arrays of Real (float for training, double for finite-difference tests). The
// same class holds the gradients (ZerosLike), so gradients keep the checkpoint's names/shapes.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "anser/model.h"
#include "anser/status.h"
#include "io/tensor_store.h"

namespace anser {

template <typename Real>
struct NamedTensor {
  std::string name;
  std::vector<int64_t> shape;  // PyTorch order, row-major
  std::vector<Real> data;
};

template <typename Real>
class Params {
 public:
  Params() = default;
  explicit Params(const ModelConfig& config) : config_(config) {}

  const ModelConfig& config() const { return config_; }
  const std::vector<NamedTensor<Real>>& tensors() const { return tensors_; }
  std::vector<NamedTensor<Real>>& tensors() { return tensors_; }

  // Appends a zero tensor; names must be unique.
  void Add(const std::string& name, std::vector<int64_t> shape);
  // Null when absent.
  Real* Find(const std::string& name);
  const Real* Find(const std::string& name) const;

  // Same names and shapes, all zeros: the matching gradient set.
  Params ZerosLike() const;
  void SetZero();
  int64_t numel() const;

  template <typename To>
  Params<To> Cast() const {
    Params<To> out(config_);
    for (const NamedTensor<Real>& t : tensors_) {
      out.Add(t.name, t.shape);
      To* d = out.Find(t.name);
      for (size_t i = 0; i < t.data.size(); ++i) d[i] = static_cast<To>(t.data[i]);
    }
    return out;
  }

 private:
  ModelConfig config_;
  std::vector<NamedTensor<Real>> tensors_;
  std::map<std::string, size_t> index_;
};

using ParamSet = Params<float>;

// Every tensor of the model's (validated, official-named) store, converted to float32, in the
// store's order; the model is loaded with WeightLayout::kStored. Layer 0's unused v0/v1/v2 are kept when the checkpoint has them.
// The switch tensors are not parameters: the configuration's variant carries them.
ParamSet ParamsFromModel(const Model& model);

// Loads any checkpoint Model::Load accepts (validated by Weights::Build) as float32 params.
Result<ParamSet> LoadParams(const std::string& path);

// Float32 views of every tensor (for SavePth); valid while `params` lives and is not resized.
std::vector<TensorView> Views(const ParamSet& params);

}  // namespace anser
