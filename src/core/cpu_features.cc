#include "core/cpu_features.h"

#include <cstdint>

#if defined(__x86_64__)
#include <cpuid.h>
#endif

namespace anser {
namespace {

#if defined(__x86_64__)

struct CpuidRegs {
  uint32_t eax = 0, ebx = 0, ecx = 0, edx = 0;
};

CpuidRegs Cpuid(uint32_t leaf, uint32_t subleaf) {
  CpuidRegs r;
  __cpuid_count(leaf, subleaf, r.eax, r.ebx, r.ecx, r.edx);
  return r;
}

// XCR0: which register states the OS saves on a context switch. Read with the raw opcode of
// xgetbv so no -mxsave flag is needed on this file.
uint64_t ReadXcr0() {
  uint32_t lo = 0, hi = 0;
  __asm__ volatile(".byte 0x0f, 0x01, 0xd0" : "=a"(lo), "=d"(hi) : "c"(0));
  return (static_cast<uint64_t>(hi) << 32) | lo;
}

bool Bit(uint32_t reg, int bit) { return (reg >> bit) & 1u; }

CpuFeatures Detect() {
  CpuFeatures f;
  const uint32_t max_leaf = Cpuid(0, 0).eax;
  if (max_leaf < 1) return f;
  const CpuidRegs l1 = Cpuid(1, 0);
  const bool osxsave = Bit(l1.ecx, 27);
  if (!osxsave) return f;  // without XSAVE enabled by the OS no AVX state is saved
  const uint64_t xcr0 = ReadXcr0();
  const bool os_ymm = (xcr0 & 0x6) == 0x6;              // SSE (bit 1) and AVX (bit 2) state
  const bool os_zmm = os_ymm && (xcr0 & 0xe0) == 0xe0;  // opmask, ZMM0-15 high, ZMM16-31
  const bool os_amx = (xcr0 & 0x60000) == 0x60000;      // XTILECFG (17) and XTILEDATA (18)
  const bool avx = Bit(l1.ecx, 28) && os_ymm;
  f.fma = avx && Bit(l1.ecx, 12);
  f.f16c = avx && Bit(l1.ecx, 29);
  if (max_leaf < 7) return f;
  const CpuidRegs l7 = Cpuid(7, 0);
  f.avx2 = avx && Bit(l7.ebx, 5);
  f.avx512f = os_zmm && Bit(l7.ebx, 16);
  f.avx512dq = f.avx512f && Bit(l7.ebx, 17);
  f.avx512bw = f.avx512f && Bit(l7.ebx, 30);
  f.avx512vl = f.avx512f && Bit(l7.ebx, 31);
  f.avx512vnni = f.avx512f && Bit(l7.ecx, 11);
  f.amx_bf16 = os_amx && Bit(l7.edx, 22);
  f.amx_tile = os_amx && Bit(l7.edx, 24);
  f.amx_int8 = os_amx && Bit(l7.edx, 25);
  if (l7.eax >= 1) {
    const CpuidRegs l7s1 = Cpuid(7, 1);
    f.avxvnni = avx && Bit(l7s1.eax, 4);
    f.avx512bf16 = f.avx512f && Bit(l7s1.eax, 5);
  }
  return f;
}

#else

CpuFeatures Detect() { return {}; }

#endif

}  // namespace

const CpuFeatures& GetCpuFeatures() {
  static const CpuFeatures features = Detect();
  return features;
}

}  // namespace anser
