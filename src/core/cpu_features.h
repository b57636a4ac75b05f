// What this CPU can run, read once with cpuid and xgetbv. A flag is set only when the CPU has
// the instructions AND the operating system saves the registers they use (YMM for AVX,
// ZMM/opmask for AVX-512, the tile state for AMX): the kernel tables are chosen from these.
// (Linux also wants arch_prctl(ARCH_REQ_XCOMP_PERM) once before a process touches AMX tiles.)
#pragma once

namespace anser {

struct CpuFeatures {
  bool avx2 = false;
  bool fma = false;
  bool f16c = false;
  bool avxvnni = false;
  bool avx512f = false;
  bool avx512bw = false;
  bool avx512vl = false;
  bool avx512dq = false;
  bool avx512vnni = false;
  bool avx512bf16 = false;
  bool amx_tile = false;
  bool amx_int8 = false;
  bool amx_bf16 = false;
};

// The features of the CPU this process runs on (all false on other architectures).
const CpuFeatures& GetCpuFeatures();

}  // namespace anser
