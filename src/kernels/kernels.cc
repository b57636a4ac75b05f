#include "kernels/kernels.h"

#include <atomic>
#include <cstdlib>
#include <string_view>
#include <thread>

#include "core/cpu_features.h"
#include "core/thread_pool.h"
#include "kernels/cpu/avx2.h"
#include "kernels/cpu/avx512.h"
#include "kernels/cpu/avxvnni.h"

namespace anser {

bool Avx512Runs(const CpuFeatures& cpu) {
  return cpu.avx2 && cpu.fma && cpu.f16c && cpu.avx512f && cpu.avx512bw && cpu.avx512vl && cpu.avx512vnni;
}

std::vector<const CpuKernels*> AllKernels() {
  std::vector<const CpuKernels*> all{&RefKernels()};
  const CpuFeatures& cpu = GetCpuFeatures();
  if (cpu.avx2 && cpu.fma && cpu.f16c) {
    all.push_back(&Avx2Kernels());
    if (cpu.avxvnni) all.push_back(&AvxVnniKernels());
    if (Avx512Runs(cpu)) all.push_back(&Avx512Kernels());
  }
  return all;
}

namespace {
std::atomic<const CpuKernels*> chosen_for_testing{nullptr};
}  // namespace

const CpuKernels& SelectKernels() {
  if (const CpuKernels* k = chosen_for_testing.load(std::memory_order_acquire)) return *k;
  static const CpuKernels* chosen = [] {
    const std::vector<const CpuKernels*> all = AllKernels();
    if (const char* want = std::getenv("ANSER_KERNELS")) {
      for (const CpuKernels* k : all) {
        if (std::string_view(k->name) == want) return k;
      }
    }
    return all.back();  // AllKernels lists the reference first, the best for this CPU last
  }();
  return *chosen;
}

void SelectKernelsForTesting(const CpuKernels* table) {
  chosen_for_testing.store(table, std::memory_order_release);
}

void SetKernelThreads(int n) {
  if (n <= 0) n = static_cast<int>(std::thread::hardware_concurrency());
  KernelPool().Resize(n);
}

int KernelThreads() { return KernelPool().threads(); }

}  // namespace anser
