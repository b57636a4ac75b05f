#include "core/install_dir.h"

#include <link.h>

#include <cstdint>
#include <filesystem>
#include <system_error>

namespace anser {
namespace {

// The loaded object (program or shared library) whose segments hold `address`.
struct ObjectSearch {
  uintptr_t address = 0;
  bool found = false;
  std::string name;  // "" for the main program
};

int FindObject(dl_phdr_info* info, size_t /*size*/, void* data) {
  auto* search = static_cast<ObjectSearch*>(data);
  for (int i = 0; i < info->dlpi_phnum; ++i) {
    const ElfW(Phdr)& segment = info->dlpi_phdr[i];
    if (segment.p_type != PT_LOAD) continue;
    const uintptr_t begin = info->dlpi_addr + segment.p_vaddr;
    if (search->address >= begin && search->address < begin + segment.p_memsz) {
      search->found = true;
      search->name = info->dlpi_name;
      return 1;
    }
  }
  return 0;
}

}  // namespace

std::string InstalledDataDir() {
  namespace fs = std::filesystem;
  ObjectSearch search;
  search.address = reinterpret_cast<uintptr_t>(&InstalledDataDir);
  dl_iterate_phdr(FindObject, &search);
  if (!search.found) return "";
  std::error_code error;
  // The main program's name is empty here (dladdr would give argv[0], possibly relative).
  const fs::path binary =
      search.name.empty() ? fs::read_symlink("/proc/self/exe", error) : fs::path(search.name);
  if (error || binary.empty()) return "";
  const fs::path absolute = fs::absolute(binary, error);
  if (error) return "";
  return (absolute.parent_path().parent_path() / "share" / "anser").lexically_normal().string();
}

}  // namespace anser
