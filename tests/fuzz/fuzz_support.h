// What the libFuzzer targets share: inputs written as files for the loaders that take a path,
// and the one-token run that every model a target manages to load must survive.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "anser/model.h"
#include "io/tensor_store.h"

namespace anser::fuzz {

// Writes `data` to `name` inside this process's scratch folder (under /dev/shm when it exists,
// so the fuzzer's millions of inputs never reach a disk) and returns its path.
std::string WriteInput(const std::string& name, const uint8_t* data, size_t size);

// A folder in the scratch folder, emptied: for loaders that take a Hugging Face folder.
std::string EmptyFolder(const std::string& name);

// Reads every byte of every view, so a view that points outside its mapping faults under ASan.
void ReadEveryByte(const TensorStore& store);

// Loads `path` as a model and, if that works, runs one token through the recurrent step and
// a two-token sequence: a file that loads must be safe to run.
void LoadAndRunOneToken(const std::string& path);

// Aborts with `what` when `property` is false: the property checks of the targets, which the
// fuzzer reports as a crash.
void Require(bool property, const char* what);

}  // namespace anser::fuzz
