// The vocabulary indexed for mask computation: every token's bytes, and a byte trie of them laid
// out depth-first, so a walk can skip a whole subtree (every token sharing a dead prefix) at once.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace anser::grammar {

class Vocabulary {
 public:
  struct TrieNode {
    uint8_t byte = 0;          // the byte on the edge into this node
    int32_t depth = 0;         // bytes from the root (1 for the first byte)
    int32_t subtree_end = 0;   // index of the first node after this one's subtree
    int32_t tokens_begin = 0;  // the tokens ending here: token_ids()[begin, end)
    int32_t tokens_end = 0;
  };

  // `tokens[id]` = bytes of token id; id 0 (end of text) and empty entries are not in the trie.
  explicit Vocabulary(std::vector<std::string> tokens);

  int size() const { return static_cast<int>(tokens_.size()); }
  std::string_view bytes(int id) const { return tokens_[static_cast<size_t>(id)]; }
  // Trie nodes in depth-first order, the root left out.
  std::span<const TrieNode> nodes() const { return nodes_; }
  std::span<const int32_t> token_ids() const { return token_ids_; }
  int max_depth() const { return max_depth_; }

 private:
  std::vector<std::string> tokens_;
  std::vector<TrieNode> nodes_;
  std::vector<int32_t> token_ids_;
  int max_depth_ = 0;
};

}  // namespace anser::grammar
