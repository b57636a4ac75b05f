#include "train/train_log.h"

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "io/atomic_file_writer.h"

namespace anser {

std::string FormatLogRow(const LogRow& r) {
  char val[32] = "";
  if (r.val_loss >= 0.0) std::snprintf(val, sizeof(val), "%.6f", r.val_loss);
  char line[256];
  std::snprintf(line, sizeof(line), "%lld,%lld,%.6f,%s,%.6e,%.1f,%.2f",
                static_cast<long long>(r.step), static_cast<long long>(r.tokens), r.loss, val, r.lr,
                r.tok_s, r.elapsed_s);
  return line;
}

Status WriteLog(const std::string& path, const std::vector<LogRow>& rows) {
  std::string text = std::string(kLogHeader) + "\n";
  for (const LogRow& r : rows) text += FormatLogRow(r) + "\n";
  AtomicFileWriter out;
  ANSER_RETURN_IF_ERROR(out.Open(path));
  ANSER_RETURN_IF_ERROR(out.Write(text.data(), text.size()));
  return out.Commit();
}

Status AppendLog(const std::string& path, const LogRow& row) {
  std::ofstream out(path, std::ios::app | std::ios::binary);
  out << FormatLogRow(row) << '\n';
  out.flush();
  if (!out) return Status::Error("[train] cannot append to '" + path + "'");
  return Status::Ok();
}

Result<std::vector<LogRow>> ReadLog(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::Error("cannot open log '" + path + "'");
  std::string line;
  if (!std::getline(in, line) || line != kLogHeader) {
    return Status::Error("'" + path + "' is not a training log: the first line must be '" +
                         kLogHeader + "'");
  }
  std::vector<LogRow> rows;
  int line_no = 1;
  while (std::getline(in, line)) {
    ++line_no;
    if (line.empty()) continue;
    std::vector<std::string> f;
    std::stringstream ss(line);
    for (std::string cell; std::getline(ss, cell, ',');) f.push_back(cell);
    if (!line.empty() && line.back() == ',') f.emplace_back();
    if (f.size() != 7) {
      return Status::Error("'" + path + "' line " + std::to_string(line_no) +
                           ": expected 7 columns, got " + std::to_string(f.size()));
    }
    LogRow r;
    char* end = nullptr;
    auto number = [&](const std::string& s, double* out) {
      *out = std::strtod(s.c_str(), &end);
      return !s.empty() && *end == '\0';
    };
    double step = 0, tokens = 0;
    const bool ok = number(f[0], &step) && number(f[1], &tokens) && number(f[2], &r.loss) &&
                    (f[3].empty() || number(f[3], &r.val_loss)) && number(f[4], &r.lr) &&
                    number(f[5], &r.tok_s) && number(f[6], &r.elapsed_s);
    if (!ok)
      return Status::Error("'" + path + "' line " + std::to_string(line_no) + ": not a number");
    r.step = static_cast<int64_t>(step);
    r.tokens = static_cast<int64_t>(tokens);
    rows.push_back(r);
  }
  return rows;
}

}  // namespace anser
