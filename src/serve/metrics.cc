#include "serve/metrics.h"

#include <cstdio>

namespace anser::serve {

void RequestCounter::Count(int status) {
  std::lock_guard lock(mu_);
  ++counts_[status];
}

std::map<int, uint64_t> RequestCounter::counts() const {
  std::lock_guard lock(mu_);
  return counts_;
}

namespace {

void Metric(std::string& out, const char* name, const char* type, const char* help, double value) {
  char line[64];
  std::snprintf(line, sizeof(line), "%.17g", value);
  out.append("# HELP ").append(name).append(" ").append(help).append("\n");
  out.append("# TYPE ").append(name).append(" ").append(type).append("\n");
  out.append(name).append(" ").append(line).append("\n");
}

}  // namespace

std::string PrometheusText(const RequestCounter& requests, const EngineStats& e) {
  std::string out =
      "# HELP anser_requests_total HTTP requests answered, by status.\n"
      "# TYPE anser_requests_total counter\n";
  for (const auto& [status, count] : requests.counts()) {
    out += "anser_requests_total{status=\"" + std::to_string(status) + "\"} " + std::to_string(count) + "\n";
  }
  Metric(out, "anser_prompt_tokens_total", "counter", "Prompt tokens of admitted requests, cached ones included.",
         static_cast<double>(e.prompt_tokens_total));
  Metric(out, "anser_generated_tokens_total", "counter", "Tokens sampled.", static_cast<double>(e.generated_tokens_total));
  Metric(out, "anser_requests_active", "gauge", "Requests being prefilled or decoded.", static_cast<double>(e.active_jobs));
  Metric(out, "anser_requests_queued", "gauge", "Requests waiting for a free slot.", static_cast<double>(e.queued_jobs));
  Metric(out, "anser_state_cache_hits_total", "counter", "Prompts that started from a cached state.",
         static_cast<double>(e.cache_hits));
  Metric(out, "anser_state_cache_misses_total", "counter", "Prompts with no cached prefix.",
         static_cast<double>(e.cache_misses));
  Metric(out, "anser_state_cache_bytes", "gauge", "Bytes held by the prefix state cache.",
         static_cast<double>(e.cache_bytes));
  Metric(out, "anser_state_cache_evictions_total", "counter", "Cached states dropped to stay within the budget.",
         static_cast<double>(e.cache_evictions));
  Metric(out, "anser_decode_tokens_per_second", "gauge", "Tokens sampled per second over the recent decode steps.",
         e.decode_tokens_per_second);
  return out;
}

}  // namespace anser::serve
