// Where an installed Anser keeps its data files.
#pragma once

#include <string>

namespace anser {

// share/anser/ beside the folder of the binary that holds this code: libanser.so in <prefix>/lib,
// or a program linked with libanser.a in <prefix>/bin (the build tree has the same layout).
// "" when the binary cannot be found. The folder itself may not exist.
std::string InstalledDataDir();

}  // namespace anser
