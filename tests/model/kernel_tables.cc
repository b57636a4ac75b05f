#include "kernel_tables.h"

#include "kernels/kernels.h"

namespace anser::testing {

std::vector<std::string> KernelTableNames() {
  std::vector<std::string> names;
  for (const CpuKernels* k : AllKernels()) names.emplace_back(k->name);
  return names;
}

bool SelectKernelsNamed(const std::string& name) {
  for (const CpuKernels* k : AllKernels()) {
    if (k->name == name) {
      SelectKernelsForTesting(k);
      return true;
    }
  }
  return false;
}

void ResetKernels() { SelectKernelsForTesting(nullptr); }

}  // namespace anser::testing
