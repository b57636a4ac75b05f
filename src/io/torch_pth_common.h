// Conventions shared by the `torch.save` reader and writer.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/dtype.h"

namespace anser {

// The archive's top folder torch derives from a path: the base name without its last
// extension ("dir/model.fp32.pth" → "model.fp32"), or "archive" when that is empty.
std::string TorchArchiveName(std::string_view path);

// torch's legacy storage class ("FloatStorage", …) holding elements of `dtype`, and back.
std::optional<std::string_view> TorchStorageName(DType dtype);
std::optional<DType> DTypeOfTorchStorage(std::string_view storage_name);

}  // namespace anser
