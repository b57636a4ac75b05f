#include "tokenizer/byte_trie.h"

#include <algorithm>
#include <utility>

namespace anser {
namespace {

// Above this many children a dense row is used: a linear scan of more edges costs more than the
// cache miss on a 1 KiB row, and few nodes are this wide, so the rows stay small in total.
constexpr size_t kMaxSparseChildren = 8;

// The trie while it is being built: children kept sorted by byte.
struct BuildNode {
  int32_t token = -1;
  std::vector<std::pair<uint8_t, uint32_t>> children;
};

}  // namespace

ByteTrie::ByteTrie(const std::vector<std::string>& tokens) {
  std::vector<BuildNode> build(1);
  for (size_t id = 0; id < tokens.size(); ++id) {
    uint32_t node = 0;
    for (const char c : tokens[id]) {
      const auto byte = static_cast<uint8_t>(c);
      auto& children = build[node].children;
      auto it = std::lower_bound(children.begin(), children.end(), byte,
                                 [](const auto& edge, uint8_t b) { return edge.first < b; });
      if (it == children.end() || it->first != byte) {
        const auto child = static_cast<uint32_t>(build.size());
        children.insert(it, {byte, child});
        build.emplace_back();  // invalidates `children`, which is not used again
        node = child;
      } else {
        node = it->second;
      }
    }
    if (!tokens[id].empty() && build[node].token < 0) build[node].token = static_cast<int32_t>(id);
  }

  // Renumber breadth-first so that the short prefixes every lookup walks through sit together.
  std::vector<uint32_t> order{0};
  std::vector<uint32_t> new_index(build.size());
  for (size_t k = 0; k < order.size(); ++k) {
    new_index[order[k]] = static_cast<uint32_t>(k);
    for (const auto& [byte, child] : build[order[k]].children) order.push_back(child);
  }

  nodes_.resize(build.size());
  for (size_t k = 0; k < order.size(); ++k) {
    const BuildNode& from = build[order[k]];
    Node& to = nodes_[k];
    to.token = from.token;
    // The root is always dense: every lookup starts there.
    if (k == 0 || from.children.size() > kMaxSparseChildren) {
      to.dense = true;
      to.first = static_cast<uint32_t>(dense_.size());
      dense_.resize(dense_.size() + 256, 0);
      for (const auto& [byte, child] : from.children) dense_[to.first + byte] = new_index[child];
    } else {
      to.first = static_cast<uint32_t>(edge_bytes_.size());
      to.count = static_cast<uint16_t>(from.children.size());
      for (const auto& [byte, child] : from.children) {
        edge_bytes_.push_back(byte);
        edge_children_.push_back(new_index[child]);
      }
    }
  }
}

}  // namespace anser
