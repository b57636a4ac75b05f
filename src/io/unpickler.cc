#include "io/unpickler.h"

#include <cstring>
#include <unordered_map>
#include <utility>

#include "io/little_endian.h"

namespace anser {
namespace {

// Bounds that no tensor state dict comes near (one tensor costs about 20 objects, and torch
// pushes at most 1000 dict items at a time) but that keep a hostile pickle from exhausting
// memory: at most about 100 MB of objects, and no nesting deeper than the stack.
constexpr size_t kMaxObjects = size_t{1} << 20;
constexpr size_t kMaxStack = size_t{1} << 16;
constexpr size_t kMaxMarks = 4096;
constexpr size_t kMaxMemo = size_t{1} << 22;
constexpr size_t kMaxGlobalLine = 1024;

enum Opcode : uint8_t {
  kMark = '(',
  kStop = '.',
  kPop = '0',
  kPopMark = '1',
  kDup = '2',
  kBinFloat = 'G',
  kBinInt = 'J',
  kBinInt1 = 'K',
  kBinInt2 = 'M',
  kNone = 'N',
  kBinPersId = 'Q',
  kReduce = 'R',
  kBinUnicode = 'X',
  kBinBytes = 'B',
  kShortBinBytes = 'C',
  kEmptyList = ']',
  kAppend = 'a',
  kBuild = 'b',
  kGlobal = 'c',
  kDict = 'd',
  kEmptyDict = '}',
  kAppends = 'e',
  kBinGet = 'h',
  kLongBinGet = 'j',
  kList = 'l',
  kBinPut = 'q',
  kLongBinPut = 'r',
  kSetItem = 's',
  kTuple = 't',
  kEmptyTuple = ')',
  kSetItems = 'u',
  kProto = 0x80,
  kTuple1 = 0x85,
  kTuple2 = 0x86,
  kTuple3 = 0x87,
  kNewTrue = 0x88,
  kNewFalse = 0x89,
  kLong1 = 0x8a,
  kLong4 = 0x8b,
  kShortBinUnicode = 0x8c,
  kBinUnicode8 = 0x8d,
  kBinBytes8 = 0x8e,
  kStackGlobal = 0x93,
  kMemoize = 0x94,
  kFrame = 0x95,
};

}  // namespace

class Unpickler {
 public:
  Unpickler(const uint8_t* data, size_t size, const PickleGlobalFilter& filter)
      : data_(data), size_(size), filter_(filter) {}

  Result<PickleGraph> Run() {
    while (true) {
      const size_t op_pos = pos_;
      uint8_t op;
      ANSER_RETURN_IF_ERROR(ReadByte(&op));
      if (op == kStop) {
        if (stack_.empty()) return Error("STOP with an empty stack", op_pos);
        graph_.root_ = stack_.back();
        return std::move(graph_);
      }
      Status s = Step(op, op_pos);
      if (!s.ok()) return s;
    }
  }

 private:
  Status Error(const std::string& what, size_t at) const {
    return Status::Error("pickle: " + what + " at offset " + std::to_string(at));
  }

  Status Need(size_t n) const {
    if (n > size_ - pos_) return Error("truncated data", pos_);
    return Status::Ok();
  }
  Status ReadByte(uint8_t* out) {
    ANSER_RETURN_IF_ERROR(Need(1));
    *out = data_[pos_++];
    return Status::Ok();
  }
  Status ReadBytes(size_t n, const uint8_t** out) {
    ANSER_RETURN_IF_ERROR(Need(n));
    *out = data_ + pos_;
    pos_ += n;
    return Status::Ok();
  }

  Result<uint32_t> NewObject(PickleObject object) {
    if (graph_.objects_.size() >= kMaxObjects) return Error("too many objects", pos_);
    graph_.objects_.push_back(std::move(object));
    return static_cast<uint32_t>(graph_.objects_.size() - 1);
  }
  Status Push(uint32_t id) {
    if (stack_.size() >= kMaxStack) return Error("stack too deep", pos_);
    stack_.push_back(id);
    return Status::Ok();
  }
  Status PushNew(PickleObject object) {
    ANSER_ASSIGN_OR_RETURN(const uint32_t id, NewObject(std::move(object)));
    return Push(id);
  }
  Status PushNew(PickleKind kind, int64_t int_value = 0) {
    PickleObject o;
    o.kind = kind;
    o.int_value = int_value;
    return PushNew(std::move(o));
  }
  Status PushText(PickleKind kind, size_t length) {
    const uint8_t* p;
    ANSER_RETURN_IF_ERROR(ReadBytes(length, &p));
    PickleObject o;
    o.kind = kind;
    o.text.assign(reinterpret_cast<const char*>(p), length);
    return PushNew(std::move(o));
  }
  // Top of the stack, which must lie above the innermost mark.
  Result<uint32_t> Pop(size_t at) {
    if (stack_.empty() || (!marks_.empty() && stack_.size() <= marks_.back())) {
      return Error("stack underflow", at);
    }
    const uint32_t id = stack_.back();
    stack_.pop_back();
    return id;
  }
  Result<uint32_t> Top(size_t at) {
    if (stack_.empty() || (!marks_.empty() && stack_.size() <= marks_.back())) {
      return Error("stack underflow", at);
    }
    return stack_.back();
  }
  // Removes everything above the innermost mark, and the mark.
  Result<std::vector<uint32_t>> PopMark(size_t at) {
    if (marks_.empty()) return Error("no MARK to pop to", at);
    const size_t mark = marks_.back();
    marks_.pop_back();
    std::vector<uint32_t> items(stack_.begin() + static_cast<std::ptrdiff_t>(mark), stack_.end());
    stack_.resize(mark);
    return items;
  }
  PickleObject& Object(uint32_t id) { return graph_.objects_[id]; }

  Status PushTuple(std::vector<uint32_t> items) {
    PickleObject o;
    o.kind = PickleKind::kTuple;
    o.items = std::move(items);
    return PushNew(std::move(o));
  }
  Status TupleOfTop(size_t n, size_t at) {
    std::vector<uint32_t> items(n);
    for (size_t i = n; i-- > 0;) {
      ANSER_ASSIGN_OR_RETURN(items[i], Pop(at));
    }
    return PushTuple(std::move(items));
  }

  Status Put(uint64_t index, size_t at) {
    ANSER_ASSIGN_OR_RETURN(const uint32_t id, Top(at));
    if (memo_.size() >= kMaxMemo && memo_.find(index) == memo_.end()) {
      return Error("memo too large", at);
    }
    memo_[index] = id;
    return Status::Ok();
  }
  Status Get(uint64_t index, size_t at) {
    auto it = memo_.find(index);
    if (it == memo_.end()) return Error("memo entry " + std::to_string(index) + " missing", at);
    return Push(it->second);
  }

  Status PushGlobal(std::string_view module, std::string_view name) {
    ANSER_RETURN_IF_ERROR(filter_(module, name));
    PickleObject o;
    o.kind = PickleKind::kGlobal;
    o.text.reserve(module.size() + 1 + name.size());
    o.text.append(module).append(".").append(name);
    return PushNew(std::move(o));
  }
  Result<std::string_view> ReadLine(size_t at) {
    const size_t start = pos_;
    while (pos_ < size_ && data_[pos_] != '\n') {
      if (pos_ - start >= kMaxGlobalLine) return Error("GLOBAL name too long", at);
      ++pos_;
    }
    if (pos_ >= size_) return Error("truncated data", at);
    const std::string_view line(reinterpret_cast<const char*>(data_ + start), pos_ - start);
    ++pos_;
    return line;
  }

  // Signed little-endian two's complement, as LONG1/LONG4 store it; must fit in int64.
  Status PushLong(size_t n, size_t at) {
    if (n > 8) return Error("integer too large", at);
    const uint8_t* p;
    ANSER_RETURN_IF_ERROR(ReadBytes(n, &p));
    uint64_t v = 0;
    for (size_t i = 0; i < n; ++i) v |= static_cast<uint64_t>(p[i]) << (8 * i);
    if (n > 0 && n < 8 && (p[n - 1] & 0x80)) v |= ~uint64_t{0} << (8 * n);
    return PushNew(PickleKind::kInt, static_cast<int64_t>(v));
  }

  Status SetItems(uint32_t dict_id, const std::vector<uint32_t>& kv, size_t at) {
    if (Object(dict_id).kind != PickleKind::kDict) return Error("SETITEM on a non-dict", at);
    if (kv.size() % 2 != 0) return Error("odd number of SETITEMS operands", at);
    auto& items = Object(dict_id).items;
    items.insert(items.end(), kv.begin(), kv.end());
    return Status::Ok();
  }
  Status Appends(uint32_t list_id, const std::vector<uint32_t>& values, size_t at) {
    if (Object(list_id).kind != PickleKind::kList) return Error("APPEND on a non-list", at);
    auto& items = Object(list_id).items;
    items.insert(items.end(), values.begin(), values.end());
    return Status::Ok();
  }

  Status Reduce(size_t at) {
    ANSER_ASSIGN_OR_RETURN(const uint32_t args, Pop(at));
    ANSER_ASSIGN_OR_RETURN(const uint32_t callable, Pop(at));
    if (Object(callable).kind != PickleKind::kGlobal) return Error("REDUCE of a non-global", at);
    if (Object(args).kind != PickleKind::kTuple) return Error("REDUCE arguments not a tuple", at);
    if (Object(callable).text == "collections.OrderedDict" && Object(args).items.empty()) {
      return PushNew(PickleKind::kDict);
    }
    PickleObject o;
    o.kind = PickleKind::kReduce;
    o.items = {callable, args};
    return PushNew(std::move(o));
  }

  Status Step(uint8_t op, size_t at) {
    const uint8_t* p;
    switch (op) {
      case kProto: {
        uint8_t version;
        ANSER_RETURN_IF_ERROR(ReadByte(&version));
        if (version < 2 || version > 5) {
          return Error("unsupported protocol " + std::to_string(version), at);
        }
        return Status::Ok();
      }
      case kFrame:  // framing only groups opcodes for buffered readers; the content is inline
        return ReadBytes(8, &p);
      case kMark:
        if (marks_.size() >= kMaxMarks) return Error("MARKs nested too deeply", at);
        marks_.push_back(stack_.size());
        return Status::Ok();
      case kPop:
        return Pop(at).status();
      case kPopMark:
        return PopMark(at).status();
      case kDup: {
        ANSER_ASSIGN_OR_RETURN(const uint32_t id, Top(at));
        return Push(id);
      }
      case kNone:
        return PushNew(PickleKind::kNone);
      case kNewTrue:
        return PushNew(PickleKind::kBool, 1);
      case kNewFalse:
        return PushNew(PickleKind::kBool, 0);
      case kBinInt:
        ANSER_RETURN_IF_ERROR(ReadBytes(4, &p));
        return PushNew(PickleKind::kInt, static_cast<int32_t>(LoadLe32(p)));
      case kBinInt1:
        ANSER_RETURN_IF_ERROR(ReadBytes(1, &p));
        return PushNew(PickleKind::kInt, p[0]);
      case kBinInt2:
        ANSER_RETURN_IF_ERROR(ReadBytes(2, &p));
        return PushNew(PickleKind::kInt, LoadLe16(p));
      case kLong1: {
        ANSER_RETURN_IF_ERROR(ReadBytes(1, &p));
        return PushLong(p[0], at);
      }
      case kLong4: {
        ANSER_RETURN_IF_ERROR(ReadBytes(4, &p));
        return PushLong(LoadLe32(p), at);
      }
      case kBinFloat: {
        ANSER_RETURN_IF_ERROR(ReadBytes(8, &p));
        uint64_t bits = 0;
        for (int i = 0; i < 8; ++i) bits = (bits << 8) | p[i];  // big-endian, unlike the rest
        PickleObject o;
        o.kind = PickleKind::kFloat;
        std::memcpy(&o.float_value, &bits, 8);
        return PushNew(std::move(o));
      }
      case kShortBinUnicode:
        ANSER_RETURN_IF_ERROR(ReadBytes(1, &p));
        return PushText(PickleKind::kString, p[0]);
      case kBinUnicode:
        ANSER_RETURN_IF_ERROR(ReadBytes(4, &p));
        return PushText(PickleKind::kString, LoadLe32(p));
      case kBinUnicode8: {
        ANSER_RETURN_IF_ERROR(ReadBytes(8, &p));
        const uint64_t n = LoadLe64(p);
        if (n > size_ - pos_) return Error("truncated data", pos_);
        return PushText(PickleKind::kString, static_cast<size_t>(n));
      }
      case kShortBinBytes:
        ANSER_RETURN_IF_ERROR(ReadBytes(1, &p));
        return PushText(PickleKind::kBytes, p[0]);
      case kBinBytes:
        ANSER_RETURN_IF_ERROR(ReadBytes(4, &p));
        return PushText(PickleKind::kBytes, LoadLe32(p));
      case kBinBytes8: {
        ANSER_RETURN_IF_ERROR(ReadBytes(8, &p));
        const uint64_t n = LoadLe64(p);
        if (n > size_ - pos_) return Error("truncated data", pos_);
        return PushText(PickleKind::kBytes, static_cast<size_t>(n));
      }
      case kEmptyDict:
        return PushNew(PickleKind::kDict);
      case kEmptyList:
        return PushNew(PickleKind::kList);
      case kEmptyTuple:
        return PushTuple({});
      case kTuple1:
        return TupleOfTop(1, at);
      case kTuple2:
        return TupleOfTop(2, at);
      case kTuple3:
        return TupleOfTop(3, at);
      case kTuple: {
        ANSER_ASSIGN_OR_RETURN(std::vector<uint32_t> items, PopMark(at));
        return PushTuple(std::move(items));
      }
      case kList: {
        ANSER_ASSIGN_OR_RETURN(std::vector<uint32_t> items, PopMark(at));
        PickleObject o;
        o.kind = PickleKind::kList;
        o.items = std::move(items);
        return PushNew(std::move(o));
      }
      case kDict: {
        ANSER_ASSIGN_OR_RETURN(std::vector<uint32_t> items, PopMark(at));
        if (items.size() % 2 != 0) return Error("odd number of DICT operands", at);
        PickleObject o;
        o.kind = PickleKind::kDict;
        o.items = std::move(items);
        return PushNew(std::move(o));
      }
      case kAppend: {
        ANSER_ASSIGN_OR_RETURN(const uint32_t value, Pop(at));
        ANSER_ASSIGN_OR_RETURN(const uint32_t list, Top(at));
        return Appends(list, {value}, at);
      }
      case kAppends: {
        ANSER_ASSIGN_OR_RETURN(const std::vector<uint32_t> values, PopMark(at));
        ANSER_ASSIGN_OR_RETURN(const uint32_t list, Top(at));
        return Appends(list, values, at);
      }
      case kSetItem: {
        ANSER_ASSIGN_OR_RETURN(const uint32_t value, Pop(at));
        ANSER_ASSIGN_OR_RETURN(const uint32_t key, Pop(at));
        ANSER_ASSIGN_OR_RETURN(const uint32_t dict, Top(at));
        return SetItems(dict, {key, value}, at);
      }
      case kSetItems: {
        ANSER_ASSIGN_OR_RETURN(const std::vector<uint32_t> kv, PopMark(at));
        ANSER_ASSIGN_OR_RETURN(const uint32_t dict, Top(at));
        return SetItems(dict, kv, at);
      }
      case kBinPut:
        ANSER_RETURN_IF_ERROR(ReadBytes(1, &p));
        return Put(p[0], at);
      case kLongBinPut:
        ANSER_RETURN_IF_ERROR(ReadBytes(4, &p));
        return Put(LoadLe32(p), at);
      case kMemoize:
        return Put(memo_.size(), at);
      case kBinGet:
        ANSER_RETURN_IF_ERROR(ReadBytes(1, &p));
        return Get(p[0], at);
      case kLongBinGet:
        ANSER_RETURN_IF_ERROR(ReadBytes(4, &p));
        return Get(LoadLe32(p), at);
      case kGlobal: {
        ANSER_ASSIGN_OR_RETURN(const std::string_view module, ReadLine(at));
        ANSER_ASSIGN_OR_RETURN(const std::string_view name, ReadLine(at));
        return PushGlobal(module, name);
      }
      case kStackGlobal: {
        ANSER_ASSIGN_OR_RETURN(const uint32_t name, Pop(at));
        ANSER_ASSIGN_OR_RETURN(const uint32_t module, Pop(at));
        if (Object(name).kind != PickleKind::kString ||
            Object(module).kind != PickleKind::kString) {
          return Error("STACK_GLOBAL operands are not strings", at);
        }
        // Copies: PushGlobal may grow the arena and move the strings.
        const std::string module_name = Object(module).text;
        const std::string global_name = Object(name).text;
        return PushGlobal(module_name, global_name);
      }
      case kBinPersId: {
        ANSER_ASSIGN_OR_RETURN(const uint32_t pid, Pop(at));
        PickleObject o;
        o.kind = PickleKind::kPersistentId;
        o.items = {pid};
        return PushNew(std::move(o));
      }
      case kReduce:
        return Reduce(at);
      case kBuild: {
        ANSER_RETURN_IF_ERROR(Pop(at).status());  // the state: nothing here is settable
        ANSER_ASSIGN_OR_RETURN(const uint32_t target, Top(at));
        const PickleKind kind = Object(target).kind;
        if (kind != PickleKind::kDict && kind != PickleKind::kReduce) {
          return Error("BUILD on an object that takes no state", at);
        }
        return Status::Ok();
      }
      default: {
        static const char kHex[] = "0123456789abcdef";
        const std::string hex = {kHex[op >> 4], kHex[op & 15]};
        return Error("unsupported opcode 0x" + hex, at);
      }
    }
  }

  const uint8_t* data_;
  size_t size_;
  size_t pos_ = 0;
  const PickleGlobalFilter& filter_;
  PickleGraph graph_;
  std::vector<uint32_t> stack_;
  std::vector<size_t> marks_;
  std::unordered_map<uint64_t, uint32_t> memo_;
};

Result<PickleGraph> Unpickle(const uint8_t* data, size_t size, const PickleGlobalFilter& filter) {
  return Unpickler(data, size, filter).Run();
}

}  // namespace anser
