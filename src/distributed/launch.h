// Joining the job this process was started in: under `mpirun` (Open MPI) in a build with MPI,
// the MPI job of all its processes; otherwise this process alone.
#pragma once

#include <memory>

#include "anser/status.h"
#include "train/distributed.h"

namespace anser {

// The job of this process. A build without MPI started by mpirun with more than one process
// gets an error (N independent runs would overwrite each other's files). The MPI job stays open
// until the returned object is destroyed.
Result<std::unique_ptr<Distributed>> JoinLaunchedJob();

}  // namespace anser
