// GGUF metadata values and the GGML type table.
#include <array>

#include "io/gguf.h"

namespace anser {

GgufValue GgufValue::U32(uint32_t v) {
  GgufValue x;
  x.type = GgufType::kU32;
  x.u = v;
  return x;
}

GgufValue GgufValue::I32(int32_t v) {
  GgufValue x;
  x.type = GgufType::kI32;
  x.i = v;
  return x;
}

GgufValue GgufValue::F32(float v) {
  GgufValue x;
  x.type = GgufType::kF32;
  x.f = v;
  return x;
}

GgufValue GgufValue::Bool(bool v) {
  GgufValue x;
  x.type = GgufType::kBool;
  x.u = v ? 1 : 0;
  return x;
}

GgufValue GgufValue::String(std::string v) {
  GgufValue x;
  x.type = GgufType::kString;
  x.s = std::move(v);
  return x;
}

GgufValue GgufValue::Array(GgufType item_type, std::vector<GgufValue> items) {
  GgufValue x;
  x.type = GgufType::kArray;
  x.item_type = item_type;
  x.items = std::move(items);
  return x;
}

std::optional<int64_t> GgufValue::AsInt() const {
  switch (type) {
    case GgufType::kU8:
    case GgufType::kU16:
    case GgufType::kU32:
    case GgufType::kU64:
      if (u > static_cast<uint64_t>(INT64_MAX)) return std::nullopt;
      return static_cast<int64_t>(u);
    case GgufType::kI8:
    case GgufType::kI16:
    case GgufType::kI32:
    case GgufType::kI64:
      return i;
    default:
      return std::nullopt;
  }
}

void GgufMetadata::Set(std::string key, GgufValue value) {
  for (auto& [k, v] : entries_) {
    if (k == key) {
      v = std::move(value);
      return;
    }
  }
  entries_.emplace_back(std::move(key), std::move(value));
}

const GgufValue* GgufMetadata::Find(std::string_view key) const {
  for (const auto& [k, v] : entries_) {
    if (k == key) return &v;
  }
  return nullptr;
}

std::optional<DType> DTypeFromGgml(uint32_t ggml_type) {
  switch (ggml_type) {
    case 0: return DType::kF32;
    case 1: return DType::kF16;
    case 2: return DType::kQ4_0;
    case 3: return DType::kQ4_1;
    case 6: return DType::kQ5_0;
    case 7: return DType::kQ5_1;
    case 8: return DType::kQ8_0;
    case 10: return DType::kQ2_K;
    case 11: return DType::kQ3_K;
    case 12: return DType::kQ4_K;
    case 13: return DType::kQ5_K;
    case 14: return DType::kQ6_K;
    case 20: return DType::kIQ4_NL;
    case 23: return DType::kIQ4_XS;
    case 30: return DType::kBF16;
    default: return std::nullopt;
  }
}

std::optional<uint32_t> GgmlFromDType(DType dtype) {
  switch (dtype) {
    case DType::kF32: return 0;
    case DType::kF16: return 1;
    case DType::kQ4_0: return 2;
    case DType::kQ4_1: return 3;
    case DType::kQ5_0: return 6;
    case DType::kQ5_1: return 7;
    case DType::kQ8_0: return 8;
    case DType::kQ2_K: return 10;
    case DType::kQ3_K: return 11;
    case DType::kQ4_K: return 12;
    case DType::kQ5_K: return 13;
    case DType::kQ6_K: return 14;
    case DType::kIQ4_NL: return 20;
    case DType::kIQ4_XS: return 23;
    case DType::kBF16: return 30;
    default: return std::nullopt;
  }
}

std::string GgmlTypeName(uint32_t ggml_type) {
  // ggml's enum ggml_type; the empty slots were removed types (q4_2, q4_3) or never used.
  static constexpr std::array<const char*, 40> kNames = {
      "f32",    "f16",   "q4_0",    "q4_1",  "",       "",      "q5_0",    "q5_1",
      "q8_0",   "q8_1",  "q2_K",    "q3_K",  "q4_K",   "q5_K",  "q6_K",    "q8_K",
      "iq2_xxs", "iq2_xs", "iq3_xxs", "iq1_s", "iq4_nl", "iq3_s", "iq2_s",  "iq4_xs",
      "i8",     "i16",   "i32",     "i64",   "f64",    "iq1_m", "bf16",    "",
      "",       "",      "tq1_0",   "tq2_0", "",       "",      "",        "mxfp4"};
  if (ggml_type < kNames.size() && kNames[ggml_type][0] != '\0') return kNames[ggml_type];
  return "type " + std::to_string(ggml_type);
}

}  // namespace anser
