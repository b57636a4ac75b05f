#include "grammar/vocabulary.h"

#include <algorithm>
#include <memory>
#include <utility>

#include "anser/grammar.h"
#include "core/check.h"

namespace anser::grammar {

Vocabulary::Vocabulary(std::vector<std::string> tokens) : tokens_(std::move(tokens)) {
  std::vector<int32_t> order;
  for (size_t id = 1; id < tokens_.size(); ++id) {
    // Mask caches store byte offsets inside tokens as 16 bits.
    ANSER_CHECK(tokens_[id].size() < 65535, "GrammarVocabulary: a token of 64 KiB or more");
    if (!tokens_[id].empty()) order.push_back(static_cast<int32_t>(id));
  }
  std::sort(order.begin(), order.end(), [&](int32_t a, int32_t b) {
    return tokens_[a] < tokens_[b] || (tokens_[a] == tokens_[b] && a < b);
  });
  // Sorted order is depth-first order: each token extends the path of open nodes that it
  // shares with the previous token.
  std::vector<int32_t> path;  // open nodes, path[d] at depth d + 1
  std::string_view previous;
  for (const int32_t id : order) {
    const std::string_view bytes = tokens_[id];
    size_t common = 0;
    while (common < previous.size() && common < bytes.size() && previous[common] == bytes[common]) {
      ++common;
    }
    while (path.size() > common) {
      nodes_[path.back()].subtree_end = static_cast<int32_t>(nodes_.size());
      path.pop_back();
    }
    for (size_t d = common; d < bytes.size(); ++d) {
      TrieNode node;
      node.byte = static_cast<uint8_t>(bytes[d]);
      node.depth = static_cast<int32_t>(d + 1);
      node.tokens_begin = node.tokens_end = static_cast<int32_t>(token_ids_.size());
      path.push_back(static_cast<int32_t>(nodes_.size()));
      nodes_.push_back(node);
    }
    token_ids_.push_back(id);
    nodes_[path.back()].tokens_end = static_cast<int32_t>(token_ids_.size());
    max_depth_ = std::max(max_depth_, static_cast<int>(bytes.size()));
    previous = bytes;
  }
  while (!path.empty()) {
    nodes_[path.back()].subtree_end = static_cast<int32_t>(nodes_.size());
    path.pop_back();
  }
}

}  // namespace anser::grammar

namespace anser {

GrammarVocabulary::GrammarVocabulary(std::vector<std::string> tokens)
    : index_(std::make_unique<grammar::Vocabulary>(std::move(tokens))) {}

GrammarVocabulary::~GrammarVocabulary() = default;

std::shared_ptr<const GrammarVocabulary> GrammarVocabulary::FromTokenizer(
    const Tokenizer& tokenizer, int n_vocab) {
  std::vector<std::string> tokens(static_cast<size_t>(std::max(n_vocab, 1)));
  for (int id = 1; id < n_vocab; ++id) tokens[id] = std::string(tokenizer.TokenBytes(id));
  return std::make_shared<const GrammarVocabulary>(std::move(tokens));
}

int GrammarVocabulary::size() const { return index_->size(); }

std::string_view GrammarVocabulary::TokenBytes(int id) const { return index_->bytes(id); }

}  // namespace anser
