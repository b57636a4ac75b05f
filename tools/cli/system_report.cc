#include "system_report.h"

#include <cstdio>
#include <sstream>
#include <thread>
#include <utility>
#include <vector>

#include "build_info.h"
#include "core/cpu_features.h"
#include "kernels/kernels.h"
#include "kernels/roofline.h"

namespace anser::cli {
namespace {

std::vector<std::string> CpuFeatureNames() {
  const CpuFeatures& f = GetCpuFeatures();
  const std::pair<const char*, bool> all[] = {
      {"avx2", f.avx2},           {"fma", f.fma},
      {"f16c", f.f16c},           {"avx-vnni", f.avxvnni},
      {"avx512f", f.avx512f},     {"avx512bw", f.avx512bw},
      {"avx512vl", f.avx512vl},   {"avx512dq", f.avx512dq},
      {"avx512vnni", f.avx512vnni}, {"avx512bf16", f.avx512bf16},
      {"amx-tile", f.amx_tile},   {"amx-int8", f.amx_int8},
      {"amx-bf16", f.amx_bf16},
  };
  std::vector<std::string> names;
  for (const auto& [name, present] : all) {
    if (present) names.emplace_back(name);
  }
  return names;
}

std::string CompilerName() {
#if defined(__clang__)
  return "clang " __clang_version__;
#elif defined(__GNUC__)
  return "g++ " __VERSION__;
#else
  return "unknown compiler";
#endif
}

}  // namespace

nlohmann::json VersionJson() {
  return {{"version", ANSER_VERSION},
          {"commit", ANSER_GIT_COMMIT},
          {"build_type", ANSER_BUILD_TYPE},
          {"compiler", CompilerName()},
          {"kernels", ChosenKernels().name},
          {"cpu_features", CpuFeatureNames()}};
}

std::string VersionText(const nlohmann::json& v) {
  std::ostringstream text;
  text << "anser " << v["version"].get<std::string>() << " (commit "
       << v["commit"].get<std::string>() << ", " << v["build_type"].get<std::string>() << ", "
       << v["compiler"].get<std::string>() << ")\nkernels: " << v["kernels"].get<std::string>()
       << " (CPU features:";
  if (v["cpu_features"].empty()) text << " none of the SIMD sets";
  for (const auto& f : v["cpu_features"]) text << ' ' << f.get<std::string>();
  text << ")\n";
  return text.str();
}

nlohmann::json SystemJson() {
  nlohmann::json system = VersionJson();
  system["cores"] = std::thread::hardware_concurrency();
  const Roofline roof = MeasureRoofline();
  system["read_gb_s"] = roof.read_gb_s;
  system["peak_gflop_s"] = roof.peak_gflop_s;
  return system;
}

std::string SystemText(const nlohmann::json& s) {
  char numbers[160];
  std::snprintf(numbers, sizeof numbers,
                "cores: %u\nread bandwidth: %.1f GB/s (all kernel threads)\npeak: %.1f GFLOP/s\n",
                s["cores"].get<unsigned>(), s["read_gb_s"].get<double>(),
                s["peak_gflop_s"].get<double>());
  return VersionText(s) + numbers;
}

}  // namespace anser::cli
