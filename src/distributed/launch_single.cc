// JoinLaunchedJob of a build without MPI (ANSER_MPI off: Open MPI not found, or a sanitizer
// build): always one process.
#include <cstdlib>
#include <string>

#include "distributed/launch.h"

namespace anser {

Result<std::unique_ptr<Distributed>> JoinLaunchedJob() {
  for (const char* name : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE"}) {
    const char* size = std::getenv(name);
    if (size != nullptr && std::atoi(size) > 1) {
      return Status::Error(
          "[train] started by mpirun with " + std::string(size) +
          " processes, but this anser was built without MPI: install libopenmpi-dev "
          "(scripts/bootstrap) and rebuild with -DANSER_MPI=ON");
    }
  }
  return std::unique_ptr<Distributed>(new SingleProcess());
}

}  // namespace anser
