#include "grammar/engine.h"

#include <algorithm>
#include <mutex>
#include <utility>

#include "core/check.h"

namespace anser::grammar {
namespace {

constexpr int32_t kDead = 0;  // the config with no heads
// Token lists longer than this are kept as a bitset instead (8 KiB for 65536 tokens).
constexpr size_t kMaxListLength = 1024;

void SetBit(std::span<uint64_t> words, int32_t id) {
  words[static_cast<size_t>(id) >> 6] |= uint64_t{1} << (id & 63);
}
void ClearBit(std::span<uint64_t> words, int32_t id) {
  words[static_cast<size_t>(id) >> 6] &= ~(uint64_t{1} << (id & 63));
}

// Steps `heads` by one byte into `next`; returns whether the frame under everything was popped.
bool StepHeads(const Nfa& nfa, StackArena& arena, Expander& expander, std::span<const Head> heads,
               uint8_t byte, std::vector<Head>* next) {
  next->clear();
  expander.Reset();
  bool popped = false;
  for (const Head& head : heads) {
    for (const ByteEdge& edge : nfa.Edges(head.state)) {
      if (edge.lo <= byte && byte <= edge.hi) {
        popped |= expander.Enter(nfa, arena, edge.target, head.frame, next);
      }
    }
  }
  Canonicalize(next);
  return popped;
}

// Reads `bytes` from `heads` (stepping through `scratch`); false as soon as nothing is left.
bool ReadBytes(const Nfa& nfa, StackArena& arena, Expander& expander, std::string_view bytes,
               std::vector<Head>* heads, std::vector<Head>* scratch, bool* can_end) {
  for (const char c : bytes) {
    *can_end = StepHeads(nfa, arena, expander, *heads, static_cast<uint8_t>(c), scratch);
    std::swap(*heads, *scratch);
    if (heads->empty() && !*can_end) return false;
  }
  return true;
}

}  // namespace

Engine::Engine(Nfa nfa, const Vocabulary& vocabulary)
    : nfa_(std::move(nfa)),
      vocabulary_(vocabulary),
      caches_(new std::atomic<const StateCache*>[static_cast<size_t>(nfa_.state_count())]) {
  for (int s = 0; s < nfa_.state_count(); ++s) caches_[s].store(nullptr, std::memory_order_relaxed);
  std::vector<Head> none;
  InternConfig(none);  // kDead
}

Engine::~Engine() = default;

ParseState Engine::Start() const {
  ParseState state;
  state.expander.Reset();
  state.can_end = state.expander.Enter(nfa_, state.arena, nfa_.rule_start(nfa_.root_rule()),
                                       kNoFrame, &state.heads);
  Canonicalize(&state.heads);
  return state;
}

bool Engine::Advance(ParseState& state, std::string_view bytes) const {
  return ReadBytes(nfa_, state.arena, state.expander, bytes, &state.heads, &state.next_heads,
                   &state.can_end);
}

void Engine::FillMask(ParseState& state, TokenMask* mask) const {
  mask->Resize(vocabulary_.size());
  mask->Clear();
  const std::span<uint64_t> words = mask->words();
  std::vector<uint64_t>& bits = state.bits;
  // Heads are sorted by state, so each state's cache is applied once.
  for (size_t i = 0; i < state.heads.size(); ++i) {
    if (i > 0 && state.heads[i].state == state.heads[i - 1].state) continue;
    const StateCache& cache = CacheFor(state.heads[i].state);
    switch (cache.form) {
      case StateCache::Form::kAcceptedList:
        for (const int32_t id : cache.ids) SetBit(words, id);
        break;
      case StateCache::Form::kBitset:
        for (size_t w = 0; w < words.size(); ++w) words[w] |= cache.bits[w];
        break;
      case StateCache::Form::kRejectedList:
        bits.assign(words.size(), ~uint64_t{0});
        for (const int32_t id : cache.ids) ClearBit(bits, id);
        for (size_t w = 0; w < words.size(); ++w) words[w] |= bits[w];
        break;
    }
  }
  for (const Head& head : state.heads) {
    if (head.frame == kNoFrame) continue;  // leaving the root rule with bytes left: rejected
    const StateCache& cache = CacheFor(head.state);
    if (cache.uncertain.tokens.empty()) continue;
    const StackArena::Frame frame = state.arena.at(head.frame);
    const Refined& refined = RefinedFor(head.state, frame.ret);
    for (const int32_t id : refined.accepted) SetBit(words, id);
    if (frame.below == kNoFrame) continue;
    for (const Uncertain& u : refined.uncertain.tokens) {
      if (mask->Allowed(u.token)) continue;
      const std::string_view bytes = vocabulary_.bytes(u.token);
      for (uint32_t k = u.offsets_begin; k < u.offsets_end; ++k) {
        if (FitsAfterPop(state, frame.below, bytes.substr(refined.uncertain.offsets[k]))) {
          mask->Allow(u.token);
          break;
        }
      }
    }
  }
  // The lists and bitsets never hold token 0 (not in the trie) nor ids past the vocabulary.
  if (state.can_end) mask->Allow(0);
}

bool Engine::FitsAfterPop(ParseState& state, int32_t frame, std::string_view bytes) const {
  ParseState probe;
  const StackArena::Frame popped = state.arena.at(frame);
  probe.expander.Reset();
  probe.can_end = probe.expander.Enter(nfa_, state.arena, popped.ret, popped.below, &probe.heads);
  Canonicalize(&probe.heads);
  return ReadBytes(nfa_, state.arena, probe.expander, bytes, &probe.heads, &probe.next_heads,
                   &probe.can_end);
}

const Engine::StateCache& Engine::CacheFor(int32_t state) const {
  const StateCache* cache = caches_[state].load(std::memory_order_acquire);
  if (cache != nullptr) return *cache;
  std::unique_lock lock(mu_);
  cache = caches_[state].load(std::memory_order_relaxed);
  if (cache == nullptr) {
    owned_caches_.push_back(ComputeCache(state));
    cache = owned_caches_.back().get();
    caches_[state].store(cache, std::memory_order_release);
  }
  return *cache;
}

const Engine::Refined& Engine::RefinedFor(int32_t state, int32_t ret) const {
  const uint64_t key =
      (static_cast<uint64_t>(static_cast<uint32_t>(state)) << 32) | static_cast<uint32_t>(ret);
  {
    std::shared_lock lock(mu_);
    const auto it = refined_.find(key);
    if (it != refined_.end()) return *it->second;
  }
  const StateCache& base = CacheFor(state);
  std::unique_lock lock(mu_);
  auto& slot = refined_[key];
  if (slot == nullptr) slot = ComputeRefined(base, ret);
  return *slot;
}

int32_t Engine::InternConfig(std::vector<Head>& heads) const {
  const auto [it, inserted] = config_ids_.emplace(heads, static_cast<int32_t>(configs_.size()));
  if (inserted) {
    configs_.push_back(heads);
    rows_.resize(rows_.size() + 256, -1);
  }
  return it->second;
}

std::pair<int32_t, bool> Engine::StepConfig(int32_t config, uint8_t byte) const {
  int32_t& cell = rows_[static_cast<size_t>(config) * 256 + byte];
  if (cell >= 0) return {cell >> 1, (cell & 1) != 0};
  const bool left =
      StepHeads(nfa_, local_arena_, local_expander_, configs_[config], byte, &scratch_heads_);
  const int32_t next = InternConfig(scratch_heads_);  // may move rows_: `cell` is stale now
  rows_[static_cast<size_t>(config) * 256 + byte] = (next << 1) | (left ? 1 : 0);
  return {next, left};
}

std::unique_ptr<Engine::StateCache> Engine::ComputeCache(int32_t state) const {
  auto cache = std::make_unique<StateCache>();
  std::vector<Head> start{{state, kNoFrame}};
  const int32_t first = InternConfig(start);
  const std::span<const Vocabulary::TrieNode> nodes = vocabulary_.nodes();
  const std::span<const int32_t> ids = vocabulary_.token_ids();
  const size_t depth_count = static_cast<size_t>(vocabulary_.max_depth()) + 1;
  std::vector<int32_t> config(depth_count, kDead);
  std::vector<uint8_t> left_at(depth_count, 0);  // a path left the rule after this many bytes
  std::vector<int32_t> left_count(depth_count, 0);
  config[0] = first;
  std::vector<int32_t> accepted;
  const auto n = static_cast<int32_t>(nodes.size());
  for (int32_t i = 0; i < n;) {
    const Vocabulary::TrieNode& node = nodes[i];
    const int32_t d = node.depth;
    int32_t next = kDead;
    bool left = false;
    if (config[d - 1] != kDead) std::tie(next, left) = StepConfig(config[d - 1], node.byte);
    config[d] = next;
    left_at[d] = left ? 1 : 0;
    left_count[d] = left_count[d - 1] + (left ? 1 : 0);
    if (next == kDead && left_count[d] == 0) {
      i = node.subtree_end;  // no token below can be read from here
      continue;
    }
    for (int32_t t = node.tokens_begin; t < node.tokens_end; ++t) {
      if (next != kDead || left) {
        accepted.push_back(ids[t]);
      } else {
        Uncertain u;
        u.token = ids[t];
        u.offsets_begin = static_cast<uint32_t>(cache->uncertain.offsets.size());
        for (int32_t k = 1; k < d; ++k) {
          if (left_at[k] != 0) cache->uncertain.offsets.push_back(static_cast<uint16_t>(k));
        }
        u.offsets_end = static_cast<uint32_t>(cache->uncertain.offsets.size());
        cache->uncertain.tokens.push_back(u);
      }
    }
    ++i;
  }
  std::sort(accepted.begin(), accepted.end());
  const size_t vocab_size = static_cast<size_t>(vocabulary_.size());
  if (accepted.size() <= kMaxListLength) {
    cache->form = StateCache::Form::kAcceptedList;
    cache->ids = std::move(accepted);
  } else if (vocab_size - accepted.size() <= kMaxListLength) {
    cache->form = StateCache::Form::kRejectedList;
    size_t a = 0;
    for (int32_t id = 0; id < static_cast<int32_t>(vocab_size); ++id) {
      if (a < accepted.size() && accepted[a] == id) {
        ++a;
      } else {
        cache->ids.push_back(id);
      }
    }
    // Bits past the vocabulary in the last word must stay clear: rejected too.
    for (size_t id = vocab_size; id % 64 != 0; ++id) cache->ids.push_back(static_cast<int32_t>(id));
  } else {
    cache->form = StateCache::Form::kBitset;
    cache->bits.assign((vocab_size + 63) / 64, 0);
    for (const int32_t id : accepted) SetBit(cache->bits, id);
  }
  return cache;
}

std::unique_ptr<Engine::Refined> Engine::ComputeRefined(const StateCache& base, int32_t ret) const {
  auto refined = std::make_unique<Refined>();
  local_expander_.Reset();
  std::vector<Head> heads;
  const bool left_at_once = local_expander_.Enter(nfa_, local_arena_, ret, kNoFrame, &heads);
  Canonicalize(&heads);
  const int32_t resume = InternConfig(heads);
  std::vector<uint16_t> offsets;
  for (const Uncertain& u : base.uncertain.tokens) {
    const std::string_view bytes = vocabulary_.bytes(u.token);
    const auto length = static_cast<uint16_t>(bytes.size());
    bool accepted = false;
    offsets.clear();
    for (uint32_t k = u.offsets_begin; k < u.offsets_end && !accepted; ++k) {
      const uint16_t from = base.uncertain.offsets[k];
      if (left_at_once) offsets.push_back(from);
      int32_t config = resume;
      uint16_t at = from;
      for (; at < length && config != kDead; ++at) {
        bool left = false;
        std::tie(config, left) = StepConfig(config, static_cast<uint8_t>(bytes[at]));
        if (left) offsets.push_back(static_cast<uint16_t>(at + 1));
      }
      accepted =
          (at == length && config != kDead) || (!offsets.empty() && offsets.back() == length);
    }
    if (accepted) {
      refined->accepted.push_back(u.token);
      continue;
    }
    if (offsets.empty()) continue;
    std::sort(offsets.begin(), offsets.end());
    offsets.erase(std::unique(offsets.begin(), offsets.end()), offsets.end());
    Uncertain next;
    next.token = u.token;
    next.offsets_begin = static_cast<uint32_t>(refined->uncertain.offsets.size());
    refined->uncertain.offsets.insert(refined->uncertain.offsets.end(), offsets.begin(),
                                      offsets.end());
    next.offsets_end = static_cast<uint32_t>(refined->uncertain.offsets.size());
    refined->uncertain.tokens.push_back(next);
  }
  return refined;
}

}  // namespace anser::grammar
