// Running a whole model on each kernel table this CPU runs (model tests only).
#pragma once

#include <string>
#include <vector>

namespace anser::testing {

// The kernel tables this CPU runs, by name: test parameters for running a model on each.
std::vector<std::string> KernelTableNames();
// Makes SelectKernels() return the table named `name` (load models after: they pack for it);
// false when this CPU has no such table. ResetKernels() goes back to the CPU's choice.
bool SelectKernelsNamed(const std::string& name);
void ResetKernels();

}  // namespace anser::testing
