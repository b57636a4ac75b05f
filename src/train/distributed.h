// The processes of a data-parallel training run, as the trainer sees them: its rank among them,
// their number, and the collective operations one step needs. The trainer is written against
// this interface only; SingleProcess (here) is a run of one process, and the MPI job (in
// src/distributed, built where Open MPI is found) is a run of mpirun's processes. A failed
// collective never returns: MPI's default error handler ends the whole job.
#pragma once

#include <cstddef>
#include <cstdint>

namespace anser {

class Distributed {
 public:
  virtual ~Distributed() = default;

  virtual int rank() const = 0;  // 0 … size() − 1; rank 0 alone writes files and prints progress
  virtual int size() const = 0;
  // How many of the job's processes run on this machine (to share its cores among them).
  virtual int local_size() const = 0;

  // Element-wise sum over all processes, in place; every process gets the same bits, and the
  // same job (size and data) always the same result.
  virtual void SumFloats(float* data, size_t n) = 0;
  virtual void SumDoubles(double* data, size_t n) = 0;
  // Whether every process passed the same value.
  virtual bool AllEqual(uint64_t value) = 0;
  // Ends every process of the job with `code` (after this process reported an error that the
  // others may not have seen, so that none waits forever in a collective).
  virtual void Abort(int code) = 0;
};

// A run of one process: sums are the values themselves.
class SingleProcess final : public Distributed {
 public:
  int rank() const override { return 0; }
  int size() const override { return 1; }
  int local_size() const override { return 1; }
  void SumFloats(float*, size_t) override {}
  void SumDoubles(double*, size_t) override {}
  bool AllEqual(uint64_t) override { return true; }
  void Abort(int) override {}
};

}  // namespace anser
