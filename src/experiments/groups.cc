#include "experiments/groups.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>
#include <utility>

namespace anser {
namespace {

using Permutation = std::vector<int>;

// Every permutation of {0 … n−1} in lexicographic order; with `even_only`, the even ones.
std::vector<Permutation> Permutations(int n, bool even_only) {
  Permutation p(static_cast<size_t>(n));
  std::iota(p.begin(), p.end(), 0);
  std::vector<Permutation> out;
  do {
    int inversions = 0;
    for (size_t i = 0; i < p.size(); ++i) {
      for (size_t j = i + 1; j < p.size(); ++j) inversions += p[i] > p[j] ? 1 : 0;
    }
    if (!even_only || inversions % 2 == 0) out.push_back(p);
  } while (std::next_permutation(p.begin(), p.end()));
  return out;
}

// (a·b)(i) = a(b(i))
Permutation Compose(const Permutation& a, const Permutation& b) {
  Permutation c(a.size());
  for (size_t i = 0; i < a.size(); ++i) c[i] = a[static_cast<size_t>(b[i])];
  return c;
}

// The multiplication table and identity of the group whose elements are `elements` (ids are
// their positions) under `multiply`.
template <typename Element, typename Multiply>
std::pair<std::vector<int>, int> Table(const std::vector<Element>& elements, const Element& identity,
                                       Multiply multiply) {
  std::map<Element, int> id;
  for (size_t i = 0; i < elements.size(); ++i) id[elements[i]] = static_cast<int>(i);
  std::vector<int> table;
  table.reserve(elements.size() * elements.size());
  for (const Element& a : elements) {
    for (const Element& b : elements) table.push_back(id.at(multiply(a, b)));
  }
  return {std::move(table), id.at(identity)};
}

std::pair<std::vector<int>, int> Cyclic(int n) {
  std::vector<int> elements(static_cast<size_t>(n));
  std::iota(elements.begin(), elements.end(), 0);
  return Table(elements, 0, [n](int a, int b) { return (a + b) % n; });
}

std::pair<std::vector<int>, int> PermutationGroup(int n, bool even_only) {
  Permutation identity(static_cast<size_t>(n));
  std::iota(identity.begin(), identity.end(), 0);
  return Table(Permutations(n, even_only), identity, Compose);
}

// A4 × Z5: (p, z)·(q, y) = (p·q, z + y mod 5).
std::pair<std::vector<int>, int> A4xZ5() {
  using Pair = std::pair<Permutation, int>;
  std::vector<Pair> elements;
  for (const Permutation& p : Permutations(4, true)) {
    for (int z = 0; z < 5; ++z) elements.push_back({p, z});
  }
  return Table(elements, Pair{{0, 1, 2, 3}, 0},
               [](const Pair& a, const Pair& b) { return Pair{Compose(a.first, b.first), (a.second + b.second) % 5}; });
}

}  // namespace

std::string FiniteGroup::Names() { return "Z60, A4xZ5, A5, S5, Z2"; }

Result<FiniteGroup> FiniteGroup::Make(const std::string& name) {
  std::pair<std::vector<int>, int> t;
  if (name == "Z60") {
    t = Cyclic(60);
  } else if (name == "Z2") {
    t = Cyclic(2);
  } else if (name == "A5") {
    t = PermutationGroup(5, true);
  } else if (name == "S5") {
    t = PermutationGroup(5, false);
  } else if (name == "A4xZ5") {
    t = A4xZ5();
  } else {
    return Status::Error("unknown group '" + name + "': choose from " + Names());
  }
  const int order = static_cast<int>(std::lround(std::sqrt(static_cast<double>(t.first.size()))));
  return FiniteGroup(name, order, t.second, std::move(t.first));
}

}  // namespace anser
