#include "fixtures.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <stdexcept>

namespace anser::testing {

std::string SharedDir() { return ANSER_SHARED_DIR; }

Fixture ReadFixture(const std::string& folder) {
  Fixture f;
  f.dir = SharedDir() + "/fixtures/" + folder;
  std::ifstream in(f.dir + "/cases.json");
  if (!in) throw std::runtime_error("cannot read " + f.dir + "/cases.json");
  const nlohmann::json j = nlohmann::json::parse(in);
  f.default_model = j.at("model").get<std::string>();
  f.vocab = j.at("config").at("vocab").get<int>();
  for (const auto& c : j.at("cases")) {
    FixtureCase fc;
    fc.name = c.at("name").get<std::string>();
    fc.model = c.value("model", f.default_model);
    fc.tokens = c.at("tokens").get<std::vector<int>>();
    fc.positions = c.at("positions").get<std::vector<int>>();
    std::ifstream bin(f.dir + "/" + c.at("logits").get<std::string>(), std::ios::binary);
    std::vector<char> bytes((std::istreambuf_iterator<char>(bin)), std::istreambuf_iterator<char>());
    fc.logits.resize(bytes.size() / sizeof(float));
    std::copy(bytes.begin(), bytes.end(), reinterpret_cast<char*>(fc.logits.data()));
    if (fc.logits.size() != fc.positions.size() * static_cast<size_t>(f.vocab)) {
      throw std::runtime_error("logits file size mismatch for case " + fc.name);
    }
    f.cases.push_back(std::move(fc));
  }
  return f;
}

void LogitDeviation::AddRow(const float* got, const float* ref, int vocab) {
  double mean = 0, var = 0;
  for (int v = 0; v < vocab; ++v) mean += ref[v];
  mean /= vocab;
  for (int v = 0; v < vocab; ++v) var += (ref[v] - mean) * (ref[v] - mean);
  const double sd = std::sqrt(var / vocab);
  for (int v = 0; v < vocab; ++v) {
    const double dev = (static_cast<double>(got[v]) - ref[v]) / sd;
    max_ = std::max(max_, std::fabs(dev));
    sum_sq_ += dev * dev;
    ++n_;
  }
  ++rows_;
}

double LogitDeviation::rms() const { return n_ == 0 ? 0.0 : std::sqrt(sum_sq_ / static_cast<double>(n_)); }

std::string CompareRow(const float* got, const float* ref, int vocab) {
  double mean = 0.0;
  for (int i = 0; i < vocab; ++i) mean += ref[i];
  mean /= vocab;
  double var = 0.0;
  for (int i = 0; i < vocab; ++i) var += (ref[i] - mean) * (ref[i] - mean);
  const double tol = 1e-4 * std::sqrt(var / vocab);
  double worst = 0.0;
  int worst_at = 0;
  for (int i = 0; i < vocab; ++i) {
    const double d = std::fabs(static_cast<double>(got[i]) - ref[i]);
    if (!(d <= worst)) worst = d, worst_at = i;
  }
  const auto argmax = [vocab](const float* p) { return static_cast<int>(std::max_element(p, p + vocab) - p); };
  if (worst > tol || std::isnan(worst)) {
    return "max |dlogit| " + std::to_string(worst) + " at " + std::to_string(worst_at) + " > tol " + std::to_string(tol);
  }
  if (argmax(got) != argmax(ref)) return "argmax differs";
  return {};
}

}  // namespace anser::testing
