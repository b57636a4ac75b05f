// The finite groups of the word-problem experiment (Merrill et al. 2024, as the RWKV-7 paper
// uses it): Z60 (abelian), A4×Z5 (solvable, non-abelian), A5 (non-solvable), all of order 60;
// S5 (order 120) and Z2 (parity). Each is a multiplication table over element ids 0…n−1.
#pragma once

#include <string>
#include <vector>

#include "anser/status.h"

namespace anser {

class FiniteGroup {
 public:
  // "Z60", "A4xZ5", "A5", "S5" or "Z2".
  static Result<FiniteGroup> Make(const std::string& name);
  // The names Make accepts, comma-separated.
  static std::string Names();

  const std::string& name() const { return name_; }
  int order() const { return order_; }
  int identity() const { return identity_; }
  // a·b. For the permutation groups, (a·b)(i) = a(b(i)): b acts first.
  int Multiply(int a, int b) const { return table_[static_cast<size_t>(a * order_ + b)]; }

 private:
  FiniteGroup(std::string name, int order, int identity, std::vector<int> table)
      : name_(std::move(name)), order_(order), identity_(identity), table_(std::move(table)) {}

  std::string name_;
  int order_ = 0, identity_ = 0;
  std::vector<int> table_;  // order × order
};

}  // namespace anser
