#include "kernels/kernels.h"

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <string>
#include <string_view>
#include <thread>

#include "core/cpu_features.h"
#include "core/thread_pool.h"
#include "kernels/cpu/avx2.h"
#include "kernels/cpu/avx512.h"
#include "kernels/cpu/avxvnni.h"
#include "kernels/cpu/tiles.h"

namespace anser {

bool Avx512Runs(const CpuFeatures& cpu) {
  return cpu.avx2 && cpu.fma && cpu.f16c && cpu.avx512f && cpu.avx512bw && cpu.avx512vl &&
         cpu.avx512vnni;
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
// The table SelectKernels returns: set by SetKernels or by SelectKernels's first call.
std::atomic<const CpuKernels*> g_chosen{nullptr};

// The table used when none was set: $ANSER_KERNELS if this CPU runs it, else the best it runs.
const CpuKernels* DefaultKernels() {
  const std::vector<const CpuKernels*> all = AllKernels();
  if (const char* want = std::getenv("ANSER_KERNELS")) {
    for (const CpuKernels* k : all) {
      if (std::string_view(k->name) == want) return k;
    }
  }
  return all.back();  // AllKernels lists the reference first, the best for this CPU last
}

}  // namespace

const CpuKernels& SelectKernels() {
  if (const CpuKernels* k = chosen_for_testing.load(std::memory_order_acquire)) return *k;
  const CpuKernels* chosen = g_chosen.load(std::memory_order_acquire);
  if (chosen != nullptr) return *chosen;
  const CpuKernels* expected = nullptr;
  const CpuKernels* fallback = DefaultKernels();
  // Another thread may have chosen meanwhile; its choice stands.
  return g_chosen.compare_exchange_strong(expected, fallback) ? *fallback : *expected;
}

const CpuKernels& ChosenKernels() {
  const CpuKernels* chosen = g_chosen.load(std::memory_order_acquire);
  return chosen != nullptr ? *chosen : *DefaultKernels();
}

std::string_view MatLayoutName(MatLayout layout) {
  switch (layout) {
    case MatLayout::kRows: return "rows";
    case MatLayout::kTiles8: return "tiles8";
    case MatLayout::kTiles16: return "tiles16";
  }
  return "rows";
}

Result<const CpuKernels*> FindKernels(std::string_view name) {
  const std::vector<const CpuKernels*> all = AllKernels();
  const auto found =
      std::find_if(all.begin(), all.end(), [&](const CpuKernels* k) { return k->name == name; });
  if (found != all.end()) return *found;
  std::string names;
  for (const CpuKernels* k : all) names += std::string(names.empty() ? "" : ", ") + k->name;
  return Status::Error("kernel table '" + std::string(name) +
                       "' is not one this CPU runs: choose " + names);
}

MatLayout PackedLayout(const CpuKernels& table) {
  if (table.pack == PackTiles8) return MatLayout::kTiles8;
  if (table.pack == PackTiles16) return MatLayout::kTiles16;
  return MatLayout::kRows;
}

Status SetKernels(std::string_view name) {
  ANSER_ASSIGN_OR_RETURN(const CpuKernels* found, FindKernels(name));
  const CpuKernels* expected = nullptr;
  if (g_chosen.compare_exchange_strong(expected, found) || expected == found) return Status::Ok();
  return Status::Error("kernel table '" + std::string(name) + "' asked for, but '" +
                       expected->name +
                       "' is already in use: choose the table before the first model is loaded");
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
