// A restricted Python unpickler: it builds an inert object graph from pickle protocols 2–5 and
// never imports or calls anything. Globals are names checked by a caller-supplied filter;
// REDUCE and BINPERSID become nodes recording the call or persistent id for the caller to
// interpret. Sizes of the stack, marks, memo and object count are bounded, and every read is
// bounds-checked, so hostile input yields an error.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "anser/status.h"

namespace anser {

enum class PickleKind : uint8_t {
  kNone,
  kBool,
  kInt,
  kFloat,
  kString,        // text (UTF-8 as stored)
  kBytes,         // text holds the raw bytes
  kTuple,         // items: elements
  kList,          // items: elements
  kDict,          // items: key0, value0, key1, value1, … (later duplicates win, as in Python)
  kGlobal,        // text: "module.name"
  kReduce,        // items: callable, argument tuple
  kPersistentId,  // items: the persistent id object
};

struct PickleObject {
  PickleKind kind = PickleKind::kNone;
  int64_t int_value = 0;     // kBool (0/1), kInt
  double float_value = 0.0;  // kFloat
  std::string text;
  std::vector<uint32_t> items;  // ids of other objects in the same graph
};

// Objects live in one arena and refer to each other by id, so shared and even cyclic
// references (legal in pickles) cost nothing and free cleanly.
class PickleGraph {
 public:
  const PickleObject& object(uint32_t id) const { return objects_[id]; }
  const PickleObject& root() const { return objects_[root_]; }
  uint32_t size() const { return static_cast<uint32_t>(objects_.size()); }  // ids are [0, size)

 private:
  friend class Unpickler;
  std::vector<PickleObject> objects_;
  uint32_t root_ = 0;
};

// Returns OK to allow the global `module.name`, or the error to stop unpickling with.
using PickleGlobalFilter = std::function<Status(std::string_view module, std::string_view name)>;

// Unpickles `data[0, size)` up to its STOP opcode. REDUCE of collections.OrderedDict with no
// arguments yields an empty kDict (the one constructor whose meaning is fixed); BUILD on a
// dict or reduce node keeps the object and drops the state. Messages do not name the file.
Result<PickleGraph> Unpickle(const uint8_t* data, size_t size, const PickleGlobalFilter& filter);

}  // namespace anser
