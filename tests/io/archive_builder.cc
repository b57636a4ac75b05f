#include "archive_builder.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include "test_files.h"

namespace anser::testing_io {
namespace {

void Le(std::string& out, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

uint32_t Crc32(const std::string& s) {
  uint32_t c = 0xffffffffu;
  for (unsigned char b : s) {
    c ^= b;
    for (int k = 0; k < 8; ++k) c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1u)));
  }
  return ~c;
}

class PickleText {
 public:
  explicit PickleText(int protocol) : protocol_(protocol) {
    out_ = "\x80";
    out_.push_back(static_cast<char>(protocol));
  }
  void Op(char c) { out_.push_back(c); }
  void Str(const std::string& s) {
    if (protocol_ >= 4 && s.size() < 256) {
      out_.push_back(static_cast<char>(0x8c));
      out_.push_back(static_cast<char>(s.size()));
    } else {
      out_.push_back('X');
      Le(out_, s.size(), 4);
    }
    out_ += s;
    Memo();
  }
  void Int(int64_t v) {
    if (v >= 0 && v < 256) {
      out_.push_back('K');
      Le(out_, static_cast<uint64_t>(v), 1);
    } else {
      out_.push_back('J');
      Le(out_, static_cast<uint64_t>(v), 4);
    }
  }
  void Global(const std::string& module, const std::string& name) {
    if (protocol_ >= 4) {
      Str(module);
      Str(name);
      out_.push_back(static_cast<char>(0x93));
    } else {
      out_ += "c" + module + "\n" + name + "\n";
    }
    Memo();
  }
  void IntTuple(const std::vector<int64_t>& v) {
    Op('(');
    for (int64_t x : v) Int(x);
    Op('t');
    Memo();
  }
  void Memo() {
    if (protocol_ >= 4) {
      out_.push_back(static_cast<char>(0x94));
    } else {
      out_ += "r";
      Le(out_, next_memo_, 4);
    }
    ++next_memo_;
  }
  std::string Finish() {
    out_.push_back('.');
    if (protocol_ < 4) return out_;
    // One frame holding everything after PROTO.
    std::string framed = out_.substr(0, 2);
    framed.push_back(static_cast<char>(0x95));
    Le(framed, out_.size() - 2, 8);
    return framed + out_.substr(2);
  }

 private:
  int protocol_;
  std::string out_;
  uint64_t next_memo_ = 0;
};

}  // namespace

std::string ReadBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void WriteBytes(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

std::string TestDir() {
  std::filesystem::path dir = std::filesystem::path(anser::testing::ScratchDir()) / "archives";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir.string();
}

std::string BuildZip(const ZipSpec& spec) {
  std::string out, dir;
  for (const ZipSpec::Entry& e : spec.entries) {
    const uint64_t offset = out.size();
    const uint32_t crc = Crc32(e.data);
    Le(out, 0x04034b50, 4);
    Le(out, 20, 2);
    Le(out, 0, 2);
    Le(out, e.method, 2);
    Le(out, 0, 4);
    Le(out, crc, 4);
    Le(out, e.data.size(), 4);
    Le(out, e.data.size(), 4);
    Le(out, e.name.size(), 2);
    Le(out, 0, 2);
    out += e.name + e.data;

    std::string extra;
    if (spec.zip64) {
      Le(extra, 1, 2);
      Le(extra, 24, 2);
      Le(extra, e.data.size(), 8);
      Le(extra, e.data.size(), 8);
      Le(extra, offset, 8);
    }
    const uint64_t sat = spec.zip64 ? 0xffffffffu : 0;
    Le(dir, 0x02014b50, 4);
    Le(dir, 45, 2);
    Le(dir, 45, 2);
    Le(dir, 0, 2);
    Le(dir, e.method, 2);
    Le(dir, 0, 4);
    Le(dir, crc, 4);
    Le(dir, spec.zip64 ? sat : e.data.size(), 4);
    Le(dir, spec.zip64 ? sat : e.data.size(), 4);
    Le(dir, e.name.size(), 2);
    Le(dir, extra.size(), 2);
    Le(dir, 0, 2);
    Le(dir, 0, 2);
    Le(dir, 0, 2);
    Le(dir, 0, 4);
    Le(dir, spec.zip64 ? sat : offset, 4);
    dir += e.name + extra;
  }
  const uint64_t dir_offset = out.size();
  out += dir;
  const uint64_t n = spec.entries.size();
  if (spec.zip64) {
    const uint64_t end64 = out.size();
    Le(out, 0x06064b50, 4);
    Le(out, 44, 8);
    Le(out, 45, 2);
    Le(out, 45, 2);
    Le(out, 0, 4);
    Le(out, 0, 4);
    Le(out, n, 8);
    Le(out, n, 8);
    Le(out, dir.size(), 8);
    Le(out, dir_offset, 8);
    Le(out, 0x07064b50, 4);
    Le(out, 0, 4);
    Le(out, end64, 8);
    Le(out, 1, 4);
  }
  Le(out, 0x06054b50, 4);
  Le(out, 0, 2);
  Le(out, 0, 2);
  Le(out, spec.zip64 ? 0xffff : n, 2);
  Le(out, spec.zip64 ? 0xffff : n, 2);
  Le(out, spec.zip64 ? 0xffffffffu : dir.size(), 4);
  Le(out, spec.zip64 ? 0xffffffffu : dir_offset, 4);
  Le(out, spec.comment.size(), 2);
  return out + spec.comment;
}

std::string StateDictPickle(const std::vector<FakeTensor>& tensors, int protocol) {
  PickleText p(protocol);
  if (protocol >= 4) {
    p.Global("collections", "OrderedDict");
    p.Op(')');
    p.Op('R');
  } else {
    p.Op('}');
  }
  p.Memo();
  p.Op('(');
  for (const FakeTensor& t : tensors) {
    p.Str(t.name);
    if (t.as_parameter) p.Global("torch._utils", "_rebuild_parameter");
    p.Global("torch._utils", "_rebuild_tensor_v2");
    p.Op('(');
    p.Op('(');
    p.Str("storage");
    p.Global("torch", t.storage_class);
    p.Str(t.key);
    p.Str("cpu");
    p.Int(t.storage_numel);
    p.Op('t');
    p.Memo();
    p.Op('Q');
    p.Int(t.offset);
    p.IntTuple(t.shape);
    std::vector<int64_t> stride = t.stride;
    if (stride.empty()) {
      stride.resize(t.shape.size());
      int64_t s = 1;
      for (size_t i = t.shape.size(); i-- > 0;) {
        stride[i] = s;
        // Wrapping on purpose: tests feed shapes whose element count overflows.
        s = static_cast<int64_t>(static_cast<uint64_t>(s) * static_cast<uint64_t>(t.shape[i]));
      }
    }
    p.IntTuple(stride);
    p.Op(static_cast<char>(0x89));
    p.Global("collections", "OrderedDict");
    p.Op(')');
    p.Op('R');
    p.Memo();
    p.Op('t');
    p.Memo();
    p.Op('R');
    p.Memo();
    if (t.as_parameter) {
      p.Op(static_cast<char>(0x88));  // requires_grad
      p.Global("collections", "OrderedDict");
      p.Op(')');
      p.Op('R');
      p.Op(static_cast<char>(0x87));  // TUPLE3
      p.Op('R');
      p.Memo();
    }
  }
  // A non-tensor entry, as state dicts sometimes carry (e.g. a step counter).
  p.Str("step");
  p.Int(7);
  p.Op('u');
  if (protocol >= 4) {
    // state_dict()'s _metadata attribute arrives through BUILD.
    p.Op('}');
    p.Str("_metadata");
    p.Op('}');
    p.Op('s');
    p.Op('b');
  }
  return p.Finish();
}

}  // namespace anser::testing_io
