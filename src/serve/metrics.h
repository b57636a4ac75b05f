// GET /metrics: the server's counters in the Prometheus text format.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>

#include "serve/engine.h"

namespace anser::serve {

// Requests answered, by HTTP status. Thread-safe.
class RequestCounter {
 public:
  void Count(int status);
  std::map<int, uint64_t> counts() const;

 private:
  mutable std::mutex mu_;
  std::map<int, uint64_t> counts_;
};

std::string PrometheusText(const RequestCounter& requests, const EngineStats& engine);

}  // namespace anser::serve
