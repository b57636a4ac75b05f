#include "train/model_file.h"

#include <algorithm>
#include <cstdint>

#include "core/dtype.h"
#include "io/formats.h"
#include "model/variant.h"

namespace anser {

Status SaveParams(const std::string& path, const ParamSet& params, bool bf16) {
  std::vector<TensorView> views = Views(params);
  std::vector<std::vector<uint16_t>> rounded(bf16 ? views.size() : 0);
  for (size_t i = 0; i < rounded.size(); ++i) {
    const std::vector<float>& src = params.tensors()[i].data;
    rounded[i].resize(src.size());
    std::transform(src.begin(), src.end(), rounded[i].begin(), F32ToBf16);
    views[i].dtype = DType::kBF16;
    views[i].data = rounded[i].data();
  }
  // The model's switches, always float32 (model/variant.h).
  const std::vector<SwitchTensor> switches = VariantTensors(params.config().variant);
  for (const SwitchTensor& s : switches) views.push_back({s.name, DType::kF32, {1}, &s.value});
  return SaveTorchPth(path, views);
}

Status SaveInitState(const std::string& path, const std::vector<float>& init_state,
                     const ModelConfig& c) {
  State state(c);
  const int64_t per_layer = int64_t{c.n_head} * c.head_size * c.head_size;
  if (static_cast<int64_t>(init_state.size()) != per_layer * c.n_layer) {
    return Status::Error("[train] the learned state does not match the model's state shape");
  }
  for (int l = 0; l < c.n_layer; ++l) {
    std::copy_n(init_state.begin() + l * per_layer, per_layer, state.wkv(l));
  }
  return state.Save(path);
}

}  // namespace anser
