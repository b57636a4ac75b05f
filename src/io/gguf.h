// GGUF metadata values and the GGML tensor type codes Anser reads and writes. The file layout
// (little-endian): "GGUF", u32 version, u64 tensor count, u64 key-value count, the key-value
// pairs, the tensor infos (name, u32 n_dims, u64 ne[n_dims] fastest-first, u32 type, u64
// offset), padding to the alignment, then the data region the offsets index.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/dtype.h"
#include "io/tensor_store.h"

namespace anser {

enum class GgufType : uint32_t {
  kU8 = 0, kI8 = 1, kU16 = 2, kI16 = 3, kU32 = 4, kI32 = 5, kF32 = 6, kBool = 7,
  kString = 8, kArray = 9, kU64 = 10, kI64 = 11, kF64 = 12,
};

// One metadata value. Which field holds it depends on `type`; arrays hold `items` of one
// `item_type` (GGUF allows no arrays of arrays here: ggml itself does not read them).
struct GgufValue {
  GgufType type = GgufType::kU32;
  uint64_t u = 0;      // kU8, kU16, kU32, kU64, kBool
  int64_t i = 0;       // kI8, kI16, kI32, kI64
  double f = 0;        // kF32, kF64
  std::string s;       // kString
  GgufType item_type = GgufType::kU8;  // kArray
  std::vector<GgufValue> items;        // kArray

  static GgufValue U32(uint32_t v);
  static GgufValue I32(int32_t v);
  static GgufValue F32(float v);
  static GgufValue Bool(bool v);
  static GgufValue String(std::string v);
  static GgufValue Array(GgufType item_type, std::vector<GgufValue> items);

  // The value of any integer type, if it fits an int64_t.
  std::optional<int64_t> AsInt() const;
  bool operator==(const GgufValue& other) const = default;
};

// Key-value pairs in file order; keys are unique.
class GgufMetadata {
 public:
  void Set(std::string key, GgufValue value);  // replaces an existing key in place
  const GgufValue* Find(std::string_view key) const;
  const std::vector<std::pair<std::string, GgufValue>>& entries() const { return entries_; }

 private:
  std::vector<std::pair<std::string, GgufValue>> entries_;
};

// A tensor stored in a GGML type Anser runs only after converting it at load (q4_K, iq4_xs, …;
// kernels/ggml_dequant.h): its type code and its bytes as stored, in the mapping the store of
// the GgufFile keeps alive.
struct GgufConvertedTensor {
  uint32_t ggml_type = 0;
  const uint8_t* stored = nullptr;
};

// A read GGUF file: metadata, and tensors under their GGUF names with PyTorch-order shapes
// (ne reversed), their data mapped in place (the K-quants, iq4_nl, iq4_xs and q5_1 included, which
// run as stored). Tensors in `converted` (q8_K) are q8_0 in `tensors`, converted at load.
struct GgufFile {
  uint32_t version = 3;
  uint64_t alignment = 32;
  GgufMetadata metadata;
  TensorStore tensors;
  std::map<std::string, GgufConvertedTensor> converted;  // by tensor name
};

// GGML type codes of the types Anser stores and runs as they are: F32 0, F16 1, Q4_0 2, Q4_1 3,
// Q5_0 6, Q8_0 8, BF16 30. (The reader converts the others it reads, see GgufConvertedTensor.)
std::optional<DType> DTypeFromGgml(uint32_t ggml_type);
std::optional<uint32_t> GgmlFromDType(DType dtype);
// "q4_K", "iq2_xs", … for error messages; "type N" for codes GGML never had.
std::string GgmlTypeName(uint32_t ggml_type);

inline constexpr uint64_t kGgufDefaultAlignment = 32;

// llama.cpp's values of tokenizer.ggml.token_type.
inline constexpr int32_t kGgufTokenNormal = 1;
inline constexpr int32_t kGgufTokenControl = 3;
inline constexpr int32_t kGgufTokenUnused = 5;

}  // namespace anser
