#include "model/variant.h"

#include <cmath>
#include <cstring>
#include <sstream>

namespace anser {
namespace {

constexpr const char* kPrefix = "anser.";
constexpr const char* kAblatePrefix = "anser.ablate.";
constexpr const char* kIclrMultName = "anser.iclr_mult";

// Each ablation: its name on the command line and in files, and its field.
struct Ablation {
  const char* name;
  bool ModelVariant::*field;
};
constexpr Ablation kAblations[] = {
    {"delta", &ModelVariant::no_delta},
    {"scalar-decay", &ModelVariant::scalar_decay},
    {"scalar-iclr", &ModelVariant::scalar_iclr},
    {"shared-keys", &ModelVariant::shared_keys},
    {"no-bonus", &ModelVariant::no_bonus},
};

std::string AblationNames() {
  std::string names;
  for (const Ablation& a : kAblations) names += std::string(names.empty() ? "" : ", ") + a.name;
  return names;
}

Status CheckIclrMult(double iclr_mult, bool no_delta) {
  if (!std::isfinite(iclr_mult) || iclr_mult < 0) {
    return Status::Error("the ICLR multiplier must be a finite number ≥ 0, not " +
                         std::to_string(iclr_mult));
  }
  if (no_delta && iclr_mult != 1.0) {
    return Status::Error(
        "--ablate delta removes the removal term that --iclr-mult scales: give one or the other");
  }
  return Status::Ok();
}

// A switch tensor's single float32 value.
Result<float> SwitchValue(const TensorView& t, const std::string& source) {
  if (t.dtype != DType::kF32 || t.numel() != 1) {
    return Status::Error("[model] switch tensor '" + t.name + "' in " + source +
                         " must be one float32 value, got " + std::string(DTypeName(t.dtype)) +
                         " " + t.ShapeString());
  }
  float v;
  std::memcpy(&v, t.data, sizeof(v));
  return v;
}

}  // namespace

bool ModelVariant::IsDefault() const { return *this == ModelVariant(); }

std::string ModelVariant::Name() const {
  std::string name;
  for (const Ablation& a : kAblations) {
    if (this->*a.field) name += std::string(name.empty() ? "" : "+") + a.name;
  }
  return name.empty() ? "full" : name;
}

Result<ModelVariant> ParseModelVariant(const std::string& list, double iclr_mult) {
  ModelVariant v;
  std::stringstream in(list);
  std::string item;
  while (std::getline(in, item, ',')) {
    const size_t b = item.find_first_not_of(' '), e = item.find_last_not_of(' ');
    item = b == std::string::npos ? "" : item.substr(b, e - b + 1);
    if (item.empty() || item == "full") continue;
    bool known = false;
    for (const Ablation& a : kAblations) {
      if (item == a.name) v.*a.field = known = true;
    }
    if (!known) {
      return Status::Error("unknown ablation '" + item + "': choose from " + AblationNames());
    }
  }
  ANSER_RETURN_IF_ERROR(CheckIclrMult(iclr_mult, v.no_delta));
  // Files store the multiplier as float32: round it here so a run and its file agree.
  v.iclr_mult = static_cast<float>(iclr_mult);
  return v;
}

std::vector<SwitchTensor> VariantTensors(const ModelVariant& variant) {
  std::vector<SwitchTensor> out;
  for (const Ablation& a : kAblations) {
    if (variant.*a.field) out.push_back({std::string(kAblatePrefix) + a.name, 1.0f});
  }
  if (variant.iclr_mult != 1.0) out.push_back({kIclrMultName, static_cast<float>(variant.iclr_mult)});
  return out;
}

bool IsSwitchTensorName(const std::string& name) { return name.rfind(kPrefix, 0) == 0; }

Result<ModelVariant> VariantFromStore(const TensorStore& store) {
  ModelVariant v;
  for (const TensorView& t : store.tensors()) {
    if (!IsSwitchTensorName(t.name)) continue;
    ANSER_ASSIGN_OR_RETURN(const float value, SwitchValue(t, store.source()));
    if (t.name == kIclrMultName) {
      v.iclr_mult = value;
      continue;
    }
    bool known = false;
    for (const Ablation& a : kAblations) {
      if (t.name != std::string(kAblatePrefix) + a.name) continue;
      if (value != 1.0f) {
        return Status::Error("[model] switch tensor '" + t.name + "' in " + store.source() +
                             " holds " + std::to_string(value) + "; a switch that is on holds 1");
      }
      v.*a.field = known = true;
    }
    if (!known) {
      return Status::Error("[model] " + store.source() + " carries the switch '" + t.name +
                           "', which this version of Anser does not know: it cannot run the "
                           "model as it was trained (known: " + AblationNames() +
                           ", iclr_mult)");
    }
  }
  const Status ok = CheckIclrMult(v.iclr_mult, v.no_delta);
  if (!ok.ok()) return Status::Error("[model] " + store.source() + ": " + ok.message());
  return v;
}

}  // namespace anser
