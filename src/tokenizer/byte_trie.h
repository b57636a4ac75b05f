// A read-only trie over token byte strings for greedy longest-match tokenization.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace anser {

// Nodes live in one array in breadth-first order. A node's children are found either in a dense
// 256-entry row (the root and nodes with many children, where a scan would be slow) or in a
// short run of (byte, child) edges scanned linearly (the vast majority, which have only a few
// children). Child index 0 means "none": the root is never anyone's child.
class ByteTrie {
 public:
  struct Match {
    int id;  // -1 when no token is a prefix
    size_t length;
  };

  // `tokens[id]` holds the bytes of token `id`; empty entries are skipped. When two ids share
  // the same bytes, the smaller id is the one matched.
  explicit ByteTrie(const std::vector<std::string>& tokens);

  // The longest token that is a prefix of `text`.
  Match LongestPrefix(std::string_view text) const {
    const auto* p = reinterpret_cast<const uint8_t*>(text.data());
    Match best{-1, 0};
    uint32_t node = 0;
    for (size_t i = 0; i < text.size(); ++i) {
      node = Child(node, p[i]);
      if (node == 0) break;
      const int id = nodes_[node].token;
      if (id >= 0) best = {id, i + 1};
    }
    return best;
  }

  size_t node_count() const { return nodes_.size(); }

 private:
  struct Node {
    int32_t token = -1;  // the id ending here, or -1
    uint32_t first = 0;  // start of the dense row in dense_, or of the edges in edge_*
    uint16_t count = 0;  // number of edges, 0 for a dense node
    bool dense = false;
  };

  uint32_t Child(uint32_t node, uint8_t byte) const {
    const Node& n = nodes_[node];
    if (n.dense) return dense_[n.first + byte];
    const uint8_t* bytes = edge_bytes_.data() + n.first;
    for (uint32_t k = 0; k < n.count; ++k) {
      if (bytes[k] == byte) return edge_children_[n.first + k];
    }
    return 0;
  }

  std::vector<Node> nodes_;
  std::vector<uint32_t> dense_;          // 256 children per dense node
  std::vector<uint8_t> edge_bytes_;      // sparse nodes' edge labels, grouped by node
  std::vector<uint32_t> edge_children_;  // parallel to edge_bytes_
};

}  // namespace anser
