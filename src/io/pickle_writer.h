// Emits pickle protocol 2 opcode by opcode, choosing the same encodings as CPython's pickler
// (smallest integer opcode, BINPUT vs LONG_BINPUT by memo index), so a caller that replays
// Python's memoization produces byte-identical output. Knows nothing about what is pickled.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace anser {

class PickleWriter {
 public:
  PickleWriter();  // writes PROTO 2

  void Mark();
  void EmptyDict();
  void EmptyTuple();
  void Tuple();          // TUPLE: everything since the last Mark
  void TupleN(int n);    // TUPLE1/2/3: the top n (1 ≤ n ≤ 3)
  void String(std::string_view s);
  void Int(int64_t v);
  void Bool(bool v);
  void Global(std::string_view module, std::string_view name);
  void PersistentId();   // BINPERSID
  void Reduce();
  void SetItem();
  void SetItems();
  void Stop();

  // Memoizes the top of the stack under the next index and returns that index.
  uint32_t Put();
  void Get(uint32_t index);

  const std::string& bytes() const { return out_; }

 private:
  std::string out_;
  uint32_t next_memo_ = 0;
};

}  // namespace anser
