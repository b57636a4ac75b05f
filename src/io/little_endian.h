// Little-endian loads and appends for the byte-oriented file formats (zip, pickle, safetensors).
// Byte-wise so they work on any alignment and any host byte order.
#pragma once

#include <cstdint>
#include <string>

namespace anser {

inline uint16_t LoadLe16(const uint8_t* p) {
  return static_cast<uint16_t>(p[0] | (p[1] << 8));
}

inline uint32_t LoadLe32(const uint8_t* p) {
  return static_cast<uint32_t>(p[0]) | (static_cast<uint32_t>(p[1]) << 8) |
         (static_cast<uint32_t>(p[2]) << 16) | (static_cast<uint32_t>(p[3]) << 24);
}

inline uint64_t LoadLe64(const uint8_t* p) {
  return static_cast<uint64_t>(LoadLe32(p)) | (static_cast<uint64_t>(LoadLe32(p + 4)) << 32);
}

inline void AppendLe16(std::string& out, uint16_t v) {
  out.push_back(static_cast<char>(v & 0xff));
  out.push_back(static_cast<char>(v >> 8));
}

inline void AppendLe32(std::string& out, uint32_t v) {
  AppendLe16(out, static_cast<uint16_t>(v & 0xffff));
  AppendLe16(out, static_cast<uint16_t>(v >> 16));
}

inline void AppendLe64(std::string& out, uint64_t v) {
  AppendLe32(out, static_cast<uint32_t>(v & 0xffffffffu));
  AppendLe32(out, static_cast<uint32_t>(v >> 32));
}

}  // namespace anser
