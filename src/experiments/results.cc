#include "experiments/results.h"

#include <cstdio>
#include <filesystem>

#include "core/mapped_file.h"

namespace anser {
namespace {

std::string CsvField(const nlohmann::ordered_json& v) {
  if (!v.is_string()) return v.dump();
  const std::string s = v.get<std::string>();
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string quoted = "\"";
  for (char c : s) {
    if (c == '"') quoted.push_back('"');
    quoted.push_back(c);
  }
  quoted.push_back('"');
  return quoted;
}

}  // namespace

Status WriteResultsCsv(const std::string& path, const std::vector<RunRecord>& records) {
  std::string text;
  for (size_t r = 0; r < records.size(); ++r) {
    if (r == 0) {
      for (const auto& [key, value] : records[0].items()) {
        if (key != records[0].begin().key()) text.push_back(',');
        text.append(key);
      }
      text.push_back('\n');
    }
    bool first = true;
    for (const auto& [key, value] : records[r].items()) {
      if (!first) text.push_back(',');
      text.append(CsvField(value));
      first = false;
    }
    text.push_back('\n');
  }
  return WriteTextFile(path, text);
}

Status WriteCurvesCsv(const std::string& path, const std::vector<NamedCurve>& curves) {
  std::string text = "run,step,train_loss,val_loss,val_token_acc,val_last_acc,seconds\n";
  char line[256];
  for (const NamedCurve& c : curves) {
    for (const CurvePoint& p : c.points) {
      std::snprintf(line, sizeof(line), ",%lld,%.6f,%.6f,%.6f,%.6f,%.2f\n",
                    static_cast<long long>(p.step), p.train_loss, p.val.loss, p.val.token_acc,
                    p.val.last_acc, p.seconds);
      text += c.run + line;
    }
  }
  return WriteTextFile(path, text);
}

Status WriteRunTables(const std::string& dir, const std::vector<RunRecord>& records,
                      const std::vector<NamedCurve>& curves) {
  ANSER_RETURN_IF_ERROR(MakeOutputDir(dir));
  ANSER_RETURN_IF_ERROR(WriteResultsCsv(dir + "/results.csv", records));
  return WriteCurvesCsv(dir + "/curves.csv", curves);
}

Status WriteTextFile(const std::string& path, const std::string& text) {
  return WriteFileAtomically(path, text.data(), text.size());
}

Status MakeOutputDir(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return Status::Error("[experiment] cannot create the folder '" + dir + "': " + ec.message());
  return Status::Ok();
}

std::string MarkdownTable(const std::vector<std::string>& header,
                          const std::vector<std::vector<std::string>>& rows) {
  auto line = [](const std::vector<std::string>& cells) {
    std::string s = "|";
    for (const std::string& c : cells) s += " " + c + " |";
    return s + "\n";
  };
  std::string text = line(header) + "|";
  for (size_t i = 0; i < header.size(); ++i) text += "---|";
  text += "\n";
  for (const auto& r : rows) text += line(r);
  return text;
}

std::string Fixed(double value, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.*f", decimals, value);
  return buf;
}

std::string Signed(double value, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%+.*f", decimals, value);
  return buf;
}

std::string Join(const std::vector<std::string>& items, const std::string& separator) {
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out.append(separator);
    out.append(items[i]);
  }
  return out;
}

std::string Short(double value) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%g", value);
  return buf;
}

std::string Percent(double fraction) { return Fixed(100.0 * fraction, 2); }

}  // namespace anser
