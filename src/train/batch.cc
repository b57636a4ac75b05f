#include "train/batch.h"

#include <fstream>
#include <limits>
#include <sstream>

#include <nlohmann/json.hpp>

namespace anser {

Status ValidateBatch(const Batch& b, int n_vocab) {
  if (b.batch <= 0 || b.n_tokens <= 0) {
    return Status::Error("[batch] empty batch: need at least one sequence of at least one token");
  }
  const size_t n = static_cast<size_t>(b.batch * b.n_tokens);
  if (b.inputs.size() != n || b.targets.size() != n) {
    return Status::Error("[batch] inputs and targets must both hold B·T = " + std::to_string(n) + " ids");
  }
  for (const auto* ids : {&b.inputs, &b.targets}) {
    for (size_t i = 0; i < n; ++i) {
      const int id = (*ids)[i];
      if (ids == &b.targets && id == kNoTarget) continue;
      if (id < 0 || id >= n_vocab) {
        return Status::Error(std::string("[batch] ") + (ids == &b.inputs ? "inputs" : "targets") + "[" +
                             std::to_string(i / static_cast<size_t>(b.n_tokens)) + "][" +
                             std::to_string(i % static_cast<size_t>(b.n_tokens)) + "] = " +
                             std::to_string(id) + " is outside the vocabulary [0, " +
                             std::to_string(n_vocab) + ")");
      }
    }
  }
  return Status::Ok();
}

namespace {

// One (B, T) array of integer ids, or an error naming `key`.
Status ReadIds(const nlohmann::json& doc, const std::string& key, const std::string& source,
               int64_t* rows, int64_t* cols, std::vector<int>* out) {
  const std::string where = "[batch] " + source + ": ";
  if (!doc.contains(key)) return Status::Error(where + "missing \"" + key + "\"");
  const nlohmann::json& a = doc[key];
  if (!a.is_array() || a.empty()) return Status::Error(where + "\"" + key + "\" must be a non-empty list of lists");
  *rows = static_cast<int64_t>(a.size());
  *cols = -1;
  for (size_t r = 0; r < a.size(); ++r) {
    const nlohmann::json& row = a[r];
    if (!row.is_array() || row.empty()) {
      return Status::Error(where + "\"" + key + "\"[" + std::to_string(r) + "] must be a non-empty list of ids");
    }
    if (*cols >= 0 && static_cast<int64_t>(row.size()) != *cols) {
      return Status::Error(where + "\"" + key + "\" rows differ in length (" + std::to_string(*cols) + " and " +
                           std::to_string(row.size()) + ")");
    }
    *cols = static_cast<int64_t>(row.size());
    for (size_t t = 0; t < row.size(); ++t) {
      const nlohmann::json& id = row[t];
      if (!id.is_number_integer() || id.get<int64_t>() < std::numeric_limits<int>::min() ||
          id.get<int64_t>() > std::numeric_limits<int>::max()) {
        return Status::Error(where + "\"" + key + "\"[" + std::to_string(r) + "][" + std::to_string(t) +
                             "] is not an integer token id");
      }
      out->push_back(id.get<int>());
    }
  }
  return Status::Ok();
}

}  // namespace

Result<Batch> ParseBatchJson(const std::string& text, const std::string& source) {
  nlohmann::json doc = nlohmann::json::parse(text, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) {
    return Status::Error("[batch] " + source + " is not a JSON object {\"inputs\": [[…]], \"targets\": [[…]]}");
  }
  Batch b;
  int64_t rows = 0, cols = 0;
  ANSER_RETURN_IF_ERROR(ReadIds(doc, "inputs", source, &b.batch, &b.n_tokens, &b.inputs));
  ANSER_RETURN_IF_ERROR(ReadIds(doc, "targets", source, &rows, &cols, &b.targets));
  if (rows != b.batch || cols != b.n_tokens) {
    return Status::Error("[batch] " + source + ": inputs are " + std::to_string(b.batch) + "×" +
                         std::to_string(b.n_tokens) + " but targets are " + std::to_string(rows) + "×" +
                         std::to_string(cols));
  }
  return b;
}

Result<Batch> ReadBatchJson(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::Error("[batch] cannot open '" + path + "'");
  std::ostringstream text;
  text << in.rdbuf();
  return ParseBatchJson(text.str(), path);
}

}  // namespace anser
