// JoinLaunchedJob of a build with MPI (ANSER_MPI on): MPI_COMM_WORLD when mpirun started this
// process. MPI is initialised only then: a plain `anser train` never touches MPI (Open MPI's
// singleton start would spawn a daemon for nothing).
#include <mpi.h>

#include <algorithm>
#include <climits>
#include <cstdlib>

#include "distributed/launch.h"

namespace anser {
namespace {

bool StartedByMpirun() {
  for (const char* name : {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK"}) {
    if (std::getenv(name) != nullptr) return true;
  }
  return false;
}

// MPI's counts are int: a buffer past INT_MAX elements goes in pieces (a model of more than two
// billion parameters), each piece one collective.
template <typename T>
void SumInPieces(T* data, size_t n, MPI_Datatype type) {
  constexpr size_t kPiece = size_t{1} << 30;
  for (size_t at = 0; at < n; at += kPiece) {
    const int count = static_cast<int>(std::min(kPiece, n - at));
    MPI_Allreduce(MPI_IN_PLACE, data + at, count, type, MPI_SUM, MPI_COMM_WORLD);
  }
}

// MPI_COMM_WORLD with its default error handler, MPI_ERRORS_ARE_FATAL: an error in any
// collective (a peer that died included) ends the job instead of returning.
class MpiJob final : public Distributed {
 public:
  MpiJob() {
    MPI_Init(nullptr, nullptr);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
    MPI_Comm_size(MPI_COMM_WORLD, &size_);
    MPI_Comm node;
    MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, rank_, MPI_INFO_NULL, &node);
    MPI_Comm_size(node, &local_size_);
    MPI_Comm_free(&node);
  }
  ~MpiJob() override { MPI_Finalize(); }

  int rank() const override { return rank_; }
  int size() const override { return size_; }
  int local_size() const override { return local_size_; }
  void SumFloats(float* data, size_t n) override { SumInPieces(data, n, MPI_FLOAT); }
  void SumDoubles(double* data, size_t n) override { SumInPieces(data, n, MPI_DOUBLE); }
  bool AllEqual(uint64_t value) override {
    // max(v) and max(~v) = ~min(v) in one call: equal everywhere iff max == min.
    uint64_t both[2] = {value, ~value};
    MPI_Allreduce(MPI_IN_PLACE, both, 2, MPI_UINT64_T, MPI_MAX, MPI_COMM_WORLD);
    return both[0] == ~both[1];
  }
  void Abort(int code) override { MPI_Abort(MPI_COMM_WORLD, code); }

 private:
  int rank_ = 0, size_ = 1, local_size_ = 1;
};

}  // namespace

Result<std::unique_ptr<Distributed>> JoinLaunchedJob() {
  if (!StartedByMpirun()) return std::unique_ptr<Distributed>(new SingleProcess());
  return std::unique_ptr<Distributed>(new MpiJob());
}

}  // namespace anser
