#include "train/params.h"

#include <algorithm>
#include <cstring>

#include "core/check.h"
#include "kernels/quantize.h"
#include "model/variant.h"
#include "model/weights.h"

namespace anser {

template <typename Real>
void Params<Real>::Add(const std::string& name, std::vector<int64_t> shape) {
  ANSER_CHECK(index_.count(name) == 0, "duplicate parameter name");
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  index_[name] = tensors_.size();
  tensors_.push_back({name, std::move(shape), std::vector<Real>(static_cast<size_t>(n), Real(0))});
}

template <typename Real>
Real* Params<Real>::Find(const std::string& name) {
  auto it = index_.find(name);
  return it == index_.end() ? nullptr : tensors_[it->second].data.data();
}

template <typename Real>
const Real* Params<Real>::Find(const std::string& name) const {
  auto it = index_.find(name);
  return it == index_.end() ? nullptr : tensors_[it->second].data.data();
}

template <typename Real>
Params<Real> Params<Real>::ZerosLike() const {
  Params out(config_);
  for (const NamedTensor<Real>& t : tensors_) out.Add(t.name, t.shape);
  return out;
}

template <typename Real>
void Params<Real>::SetZero() {
  for (NamedTensor<Real>& t : tensors_) std::fill(t.data.begin(), t.data.end(), Real(0));
}

template <typename Real>
int64_t Params<Real>::numel() const {
  int64_t n = 0;
  for (const NamedTensor<Real>& t : tensors_) n += static_cast<int64_t>(t.data.size());
  return n;
}

template class Params<float>;
template class Params<double>;

ParamSet ParamsFromModel(const Model& model) {
  ANSER_CHECK(!model.weights().packed(), "training reads the tensors as stored: load with WeightLayout::kStored");
  ParamSet out(model.config());
  for (const TensorView& t : model.weights().store().tensors()) {
    if (IsSwitchTensorName(t.name)) continue;  // carried by the configuration's variant
    out.Add(t.name, t.shape);
    float* d = out.Find(t.name);
    const int64_t cols = t.shape.empty() ? 1 : t.shape.back();
    const size_t row_bytes = DTypeRowBytes(t.dtype, cols);
    for (int64_t r = 0; r < t.numel() / std::max<int64_t>(cols, 1); ++r) {
      DequantizeRow(t.dtype, static_cast<const uint8_t*>(t.data) + static_cast<size_t>(r) * row_bytes, cols,
                    d + r * cols);
    }
  }
  return out;
}

Result<ParamSet> LoadParams(const std::string& path) {
  ANSER_ASSIGN_OR_RETURN(std::shared_ptr<const Model> model, Model::Load(path, WeightLayout::kStored));
  return ParamsFromModel(*model);
}

std::vector<TensorView> Views(const ParamSet& params) {
  std::vector<TensorView> views;
  views.reserve(params.tensors().size());
  for (const NamedTensor<float>& t : params.tensors()) {
    TensorView v;
    v.name = t.name;
    v.dtype = DType::kF32;
    v.shape = t.shape;
    v.data = t.data.data();
    views.push_back(std::move(v));
  }
  return views;
}

}  // namespace anser
