#include "io/pickle_writer.h"

#include "io/little_endian.h"

namespace anser {

PickleWriter::PickleWriter() { out_ = "\x80\x02"; }

void PickleWriter::Mark() { out_.push_back('('); }
void PickleWriter::EmptyDict() { out_.push_back('}'); }
void PickleWriter::EmptyTuple() { out_.push_back(')'); }
void PickleWriter::Tuple() { out_.push_back('t'); }
void PickleWriter::TupleN(int n) { out_.push_back(static_cast<char>(0x84 + n)); }
void PickleWriter::PersistentId() { out_.push_back('Q'); }
void PickleWriter::Reduce() { out_.push_back('R'); }
void PickleWriter::SetItem() { out_.push_back('s'); }
void PickleWriter::SetItems() { out_.push_back('u'); }
void PickleWriter::Stop() { out_.push_back('.'); }
void PickleWriter::Bool(bool v) { out_.push_back(static_cast<char>(v ? 0x88 : 0x89)); }

void PickleWriter::String(std::string_view s) {
  out_.push_back('X');
  AppendLe32(out_, static_cast<uint32_t>(s.size()));
  out_.append(s);
}

void PickleWriter::Int(int64_t v) {
  if (v >= 0 && v <= 0xff) {
    out_.push_back('K');
    out_.push_back(static_cast<char>(v));
  } else if (v >= 0 && v <= 0xffff) {
    out_.push_back('M');
    AppendLe16(out_, static_cast<uint16_t>(v));
  } else if (v >= INT32_MIN && v <= INT32_MAX) {
    out_.push_back('J');
    AppendLe32(out_, static_cast<uint32_t>(static_cast<int32_t>(v)));
  } else {
    // LONG1 with CPython's length: the fewest two's complement bytes that keep the sign.
    std::string bytes;
    uint64_t u = static_cast<uint64_t>(v);
    for (int i = 0; i < 8; ++i) bytes.push_back(static_cast<char>((u >> (8 * i)) & 0xff));
    while (bytes.size() > 1) {
      const auto last = static_cast<uint8_t>(bytes.back());
      const auto next = static_cast<uint8_t>(bytes[bytes.size() - 2]);
      if ((last == 0x00 && !(next & 0x80)) || (last == 0xff && (next & 0x80))) {
        bytes.pop_back();
      } else {
        break;
      }
    }
    out_.push_back(static_cast<char>(0x8a));
    out_.push_back(static_cast<char>(bytes.size()));
    out_.append(bytes);
  }
}

void PickleWriter::Global(std::string_view module, std::string_view name) {
  out_.push_back('c');
  out_.append(module);
  out_.push_back('\n');
  out_.append(name);
  out_.push_back('\n');
}

uint32_t PickleWriter::Put() {
  const uint32_t index = next_memo_++;
  if (index < 256) {
    out_.push_back('q');
    out_.push_back(static_cast<char>(index));
  } else {
    out_.push_back('r');
    AppendLe32(out_, index);
  }
  return index;
}

void PickleWriter::Get(uint32_t index) {
  if (index < 256) {
    out_.push_back('h');
    out_.push_back(static_cast<char>(index));
  } else {
    out_.push_back('j');
    AppendLe32(out_, index);
  }
}

}  // namespace anser
