#include "io/torch_pth_common.h"

#include <array>
#include <utility>

namespace anser {
namespace {

constexpr std::array<std::pair<std::string_view, DType>, 6> kStorages = {{
    {"FloatStorage", DType::kF32},
    {"HalfStorage", DType::kF16},
    {"BFloat16Storage", DType::kBF16},
    {"LongStorage", DType::kI64},
    {"IntStorage", DType::kI32},
    {"ByteStorage", DType::kU8},
}};

}  // namespace

std::string TorchArchiveName(std::string_view path) {
  const size_t slash = path.find_last_of("/\\");
  std::string_view base = slash == std::string_view::npos ? path : path.substr(slash + 1);
  const size_t dot = base.rfind('.');
  if (dot != std::string_view::npos) base = base.substr(0, dot);
  return base.empty() ? std::string("archive") : std::string(base);
}

std::optional<std::string_view> TorchStorageName(DType dtype) {
  for (const auto& [name, d] : kStorages) {
    if (d == dtype) return name;
  }
  return std::nullopt;
}

std::optional<DType> DTypeOfTorchStorage(std::string_view storage_name) {
  for (const auto& [name, d] : kStorages) {
    if (name == storage_name) return d;
  }
  return std::nullopt;
}

}  // namespace anser
