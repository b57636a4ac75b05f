// What `anser --version` and `anser info --system` say about this build and this machine: what
// a user pastes into a bug report.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace anser::cli {

// {"version", "commit", "build_type", "compiler", "kernels", "cpu_features": [...]}.
nlohmann::json VersionJson();
// The same in two lines of text.
std::string VersionText(const nlohmann::json& version);

// VersionJson plus "cores" and the measured "read_gb_s" and "peak_gflop_s" (about a second).
nlohmann::json SystemJson();
std::string SystemText(const nlohmann::json& system);

}  // namespace anser::cli
