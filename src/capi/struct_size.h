// Structs that carry their own size (`struct_size`, the caller's sizeof): a library and a caller
// built against different versions of anser.h agree on the fields both know.
#pragma once

#include <algorithm>
#include <cstring>
#include <string>

#include "capi/call.h"

namespace anser::capi {

// ANSER_OK when `s` covers at least the fields of the first API version (`first_size` bytes),
// else an error saying what to set.
template <class T>
anser_status CheckStructSize(const Call& call, const T& s, size_t first_size, const char* type) {
  if (s.struct_size >= first_size) return ANSER_OK;
  return call.Fail(ANSER_ERROR_INVALID_ARGUMENT, std::string(type) + ".struct_size is " +
                                                     std::to_string(s.struct_size) +
                                                     ": set it to sizeof(" + type + ")");
}

// The fields of `in` its struct_size covers; the others from `defaults`.
template <class T>
T ReadSized(const T& in, const T& defaults) {
  T out = defaults;
  std::memcpy(&out, &in, std::min(in.struct_size, sizeof(T)));
  return out;
}

// Writes the fields of `full` that out->struct_size covers, keeping out->struct_size.
template <class T>
void WriteSized(const T& full, T* out) {
  T copy = full;
  copy.struct_size = out->struct_size;
  std::memcpy(out, &copy, std::min(out->struct_size, sizeof(T)));
}

}  // namespace anser::capi
