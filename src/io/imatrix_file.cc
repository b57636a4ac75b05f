#include "io/imatrix_file.h"

#include <algorithm>
#include <cstring>
#include <fstream>
#include <iterator>

#include "io/formats.h"
#include "io/gguf.h"
#include "io/tensor_source.h"

namespace anser {
namespace {

constexpr char kSum2Suffix[] = ".in_sum2";
constexpr char kCountsSuffix[] = ".counts";

bool StripSuffix(std::string* s, std::string_view suffix) {
  if (s->size() < suffix.size() || s->compare(s->size() - suffix.size(), suffix.size(), suffix) != 0) return false;
  s->resize(s->size() - suffix.size());
  return true;
}

// A source of float32 values held by the caller.
TensorSource FloatSource(std::string name, std::vector<int64_t> shape, const float* data, size_t n) {
  TensorSource s;
  s.name = std::move(name);
  s.dtype = DType::kF32;
  s.shape = std::move(shape);
  s.produce = [data, n](const ByteSink& sink) { return sink(data, n * sizeof(float)); };
  return s;
}

std::vector<float> FloatsOf(const TensorView& view) {
  std::vector<float> v(static_cast<size_t>(view.numel()));
  std::memcpy(v.data(), view.data, v.size() * sizeof(float));
  return v;
}

Result<Imatrix> LoadGgufImatrix(const std::string& path) {
  ANSER_ASSIGN_OR_RETURN(GgufFile gguf, LoadGguf(path));
  const std::string where = "[imatrix] " + path;
  const GgufValue* chunks = gguf.metadata.Find("imatrix.chunk_count");
  if (chunks == nullptr) return Status::Error(where + ": a GGUF file without imatrix.chunk_count is not an importance matrix");
  Imatrix m;
  m.chunk_count = static_cast<uint32_t>(chunks->AsInt().value_or(0));
  if (const GgufValue* size = gguf.metadata.Find("imatrix.chunk_size")) m.chunk_size = static_cast<uint32_t>(size->AsInt().value_or(0));
  if (const GgufValue* datasets = gguf.metadata.Find("imatrix.datasets")) {
    for (const GgufValue& d : datasets->items) m.datasets.push_back(d.s);
  }
  std::map<std::string, std::pair<const TensorView*, const TensorView*>> parts;
  for (const TensorView& t : gguf.tensors.tensors()) {
    if (t.dtype != DType::kF32) return Status::Error(where + ": tensor '" + t.name + "' is not float32");
    std::string name = t.name;
    if (StripSuffix(&name, kSum2Suffix)) {
      parts[name].first = &t;
    } else if (StripSuffix(&name, kCountsSuffix)) {
      parts[name].second = &t;
    }
  }
  for (const auto& [name, p] : parts) {
    if (p.first == nullptr || p.second == nullptr) {
      return Status::Error(where + ": '" + name + "' has " + (p.first ? "in_sum2 but no counts" : "counts but no in_sum2"));
    }
    if (p.second->numel() != 1) {
      return Status::Error(where + ": '" + name + "' has " + std::to_string(p.second->numel()) +
                           " counts (expert matrices); Anser's models have one matrix per name");
    }
    m.entries[name] = {FloatsOf(*p.first), FloatsOf(*p.second)[0]};
  }
  return m;
}

// Reads a little-endian value of T at `at`, advancing it; false past the end.
template <typename T>
bool Take(const std::string& bytes, size_t* at, T* out) {
  if (*at > bytes.size() || bytes.size() - *at < sizeof(T)) return false;
  std::memcpy(out, bytes.data() + *at, sizeof(T));
  *at += sizeof(T);
  return true;
}

// int32 n; n × {int32 len; name; int32 ncall; int32 nval; float values[nval]}; then optionally
// int32 chunk count, int32 len, dataset name. Values are (Σx²/count)·ncall.
Result<Imatrix> LoadLegacyImatrix(const std::string& path, const std::string& bytes) {
  const std::string where = "[imatrix] " + path;
  const auto bad = [&where](const std::string& what) { return Status::Error(where + ": not a legacy imatrix file (" + what + ")"); };
  size_t at = 0;
  int32_t n = 0;
  if (!Take(bytes, &at, &n) || n <= 0) return bad("no entry count");
  Imatrix m;
  for (int32_t i = 0; i < n; ++i) {
    int32_t len = 0, ncall = 0, nval = 0;
    if (!Take(bytes, &at, &len) || len <= 0 || static_cast<size_t>(len) > bytes.size() - at) return bad("entry " + std::to_string(i) + "'s name");
    std::string name = bytes.substr(at, static_cast<size_t>(len));
    at += static_cast<size_t>(len);
    if (!Take(bytes, &at, &ncall) || !Take(bytes, &at, &nval) || nval <= 0 ||
        static_cast<size_t>(nval) > (bytes.size() - at) / sizeof(float)) {
      return bad("entry '" + name + "'s values");
    }
    Imatrix::Entry& e = m.entries[name];
    e.sum2.resize(static_cast<size_t>(nval));
    std::memcpy(e.sum2.data(), bytes.data() + at, e.sum2.size() * sizeof(float));
    at += e.sum2.size() * sizeof(float);
    e.count = static_cast<float>(ncall);
  }
  int32_t chunks = 0, len = 0;
  if (Take(bytes, &at, &chunks)) m.chunk_count = static_cast<uint32_t>(std::max(chunks, 0));
  if (Take(bytes, &at, &len) && len > 0 && static_cast<size_t>(len) <= bytes.size() - at) {
    m.datasets.push_back(bytes.substr(at, static_cast<size_t>(len)));
  }
  return m;
}

}  // namespace

std::map<std::string, std::vector<float>> Imatrix::Importance() const {
  std::map<std::string, std::vector<float>> out;
  for (const auto& [name, e] : entries) {
    std::vector<float>& v = out[name];
    v.resize(e.sum2.size(), 1.0f);
    if (e.count > 0) {
      for (size_t i = 0; i < v.size(); ++i) v[i] = e.sum2[i] / e.count;
    }
  }
  return out;
}

Status SaveImatrix(const std::string& path, const Imatrix& imatrix) {
  GgufMetadata metadata;
  metadata.Set("general.type", GgufValue::String("imatrix"));
  std::vector<GgufValue> datasets;
  for (const std::string& d : imatrix.datasets) datasets.push_back(GgufValue::String(d));
  metadata.Set("imatrix.datasets", GgufValue::Array(GgufType::kString, std::move(datasets)));
  metadata.Set("imatrix.chunk_count", GgufValue::U32(imatrix.chunk_count));
  metadata.Set("imatrix.chunk_size", GgufValue::U32(imatrix.chunk_size));
  std::vector<TensorSource> sources;
  for (const auto& [name, e] : imatrix.entries) {
    // ne {columns, 1} and {1, 1}: one matrix per name (llama.cpp adds a row per expert).
    sources.push_back(FloatSource(name + kSum2Suffix, {1, static_cast<int64_t>(e.sum2.size())}, e.sum2.data(), e.sum2.size()));
    sources.push_back(FloatSource(name + kCountsSuffix, {1, 1}, &e.count, 1));
  }
  return SaveGguf(path, metadata, sources);
}

Result<Imatrix> LoadImatrix(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::Error("[imatrix] cannot open '" + path + "'");
  char magic[4] = {};
  in.read(magic, 4);
  if (in && std::memcmp(magic, "GGUF", 4) == 0) return LoadGgufImatrix(path);
  in.clear();
  in.seekg(0);
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return LoadLegacyImatrix(path, bytes);
}

}  // namespace anser
