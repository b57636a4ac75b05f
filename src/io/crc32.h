// CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320), the checksum zip entries carry.
#pragma once

#include <cstddef>
#include <cstdint>

namespace anser {

// Continues a running CRC: start with crc = 0, feed the bytes in any number of pieces.
uint32_t Crc32Update(uint32_t crc, const void* data, size_t size);

}  // namespace anser
