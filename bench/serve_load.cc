// serve_load: a load test of `anser serve` over loopback. It starts the server (or takes --url) and
// runs N streaming clients, each sending one /v1/completions request after another with prompts
// of mixed lengths: first a warm-up (until every client has been served, the server's state cache
// is full and its RSS has settled), then T measured seconds. It prints one JSON object: time to
// first token and inter-token latency (p50, p99), aggregate tokens/s, request counts, and the
// server's RSS after the warm-up and at the end. It exits non-zero on any failed request (a 429 is
// counted apart, not failed), when the warm-up does not end, and when the RSS grew by more than
// --max-rss-growth.
#include <httplib.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <fstream>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <numeric>
#include <optional>
#include <random>
#include <regex>
#include <string>
#include <thread>
#include <vector>

namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

struct Options {
  std::string url;  // a running server; empty: start one
  int pid = 0;      // with --url: the server's process, for its RSS
  std::string anser = ANSER_BINARY;
  std::string model;
  std::string vocab;
  int threads = 2;
  int parallel = 8;
  int queue = 64;
  // Small, so that the prefix cache is full by the end of the warm-up and the RSS then measures
  // a steady state.
  int state_cache_mb = 16;
  int clients = 32;
  double seconds = 60;
  int min_tokens = 16;
  int max_tokens = 96;
  double top_p = -1;  // sent with every request when >= 0; else the server's default
  double warmup_limit = 300;
  double rss_settle_seconds = 5;
  double max_rss_growth = 0.05;
};

struct Endpoint {
  std::string host;
  int port = 0;
};

// Only this machine's loopback addresses may be loaded.
std::optional<Endpoint> LoopbackEndpoint(const std::string& url) {
  static const std::regex kUrl(R"(http://(127\.\d+\.\d+\.\d+|localhost|\[::1\]):(\d{1,5})/?)");
  std::smatch m;
  if (!std::regex_match(url, m, kUrl)) return std::nullopt;
  std::string host = m[1].str();
  if (host == "[::1]") host = "::1";
  return Endpoint{host, std::stoi(m[2].str())};
}

// `anser serve` as a child process on a free loopback port, stopped with SIGTERM.
class ServerProcess {
 public:
  ~ServerProcess() {
    if (pid_ > 0) Stop();
  }

  // Starts the server and waits for its "model ready:" line; empty error on success.
  std::string Start(const Options& o) {
    std::vector<std::string> args = {o.anser, "serve", "--host", "127.0.0.1", "--port", "0"};
    const auto flag = [&args](const char* name, const std::string& value) {
      args.push_back(name);
      args.push_back(value);
    };
    flag("--threads", std::to_string(o.threads));
    flag("--parallel", std::to_string(o.parallel));
    flag("--queue", std::to_string(o.queue));
    flag("--state-cache-mb", std::to_string(o.state_cache_mb));
    if (!o.model.empty()) flag("-m", o.model);
    if (!o.vocab.empty()) flag("--vocab", o.vocab);
    int fds[2];
    if (pipe(fds) != 0) return "cannot make a pipe for the server's stderr";
    pid_ = fork();
    if (pid_ < 0) return "cannot fork";
    if (pid_ == 0) {
      dup2(fds[1], STDERR_FILENO);
      close(fds[0]);
      close(fds[1]);
      std::vector<char*> argv;
      for (std::string& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      execv(argv[0], argv.data());
      std::fprintf(stderr, "cannot run %s\n", argv[0]);
      _exit(127);
    }
    close(fds[1]);
    stderr_ = fdopen(fds[0], "r");
    static const std::regex kListening(R"(listening on (http://\S+))");
    std::string line;
    while (ReadLine(&line)) {
      std::smatch m;
      if (std::regex_match(line, m, kListening)) url_ = m[1].str();
      if (line.starts_with("model ready:")) {
        // The server logs every request: its stderr is read to the end, or the pipe would fill.
        drain_ = std::thread([this] {
          std::string rest;
          while (ReadLine(&rest)) {
          }
        });
        return url_.empty() ? "the server named no address" : "";
      }
    }
    return "the server ended before it was ready";
  }

  // SIGTERM, then its exit status (-1 when it did not exit normally).
  int Stop() {
    kill(pid_, SIGTERM);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = 0;
    if (drain_.joinable()) drain_.join();
    if (stderr_ != nullptr) fclose(stderr_);
    stderr_ = nullptr;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

  int pid() const { return pid_; }
  const std::string& url() const { return url_; }

  std::string LogTail() {
    std::lock_guard lock(mu_);
    std::string out;
    for (const std::string& line : tail_) out += "  " + line + "\n";
    return out;
  }

 private:
  bool ReadLine(std::string* line) {
    char* buffer = nullptr;
    size_t size = 0;
    const ssize_t n = getline(&buffer, &size, stderr_);
    if (n >= 0)
      line->assign(buffer, static_cast<size_t>(n) - (n > 0 && buffer[n - 1] == '\n' ? 1 : 0));
    std::free(buffer);
    if (n < 0) return false;
    std::lock_guard lock(mu_);
    tail_.push_back(*line);
    if (tail_.size() > 20) tail_.pop_front();
    return true;
  }

  pid_t pid_ = 0;
  FILE* stderr_ = nullptr;
  std::string url_;
  std::thread drain_;
  std::mutex mu_;
  std::deque<std::string> tail_;  // the last lines, for error reports
};

// VmRSS of a process in KiB, or -1.
int64_t RssKiB(int pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string key;
  while (status >> key) {
    if (key == "VmRSS:") {
      int64_t kib = -1;
      status >> kib;
      return kib;
    }
    status.ignore(1 << 16, '\n');
  }
  return -1;
}

// A value of the server's /metrics, or -1.
double Metric(const Endpoint& server, const std::string& name) {
  httplib::Client client(server.host, server.port);
  const httplib::Result r = client.Get("/metrics");
  if (!r || r->status != 200) return -1;
  const std::regex line("^" + name + " (\\S+)$", std::regex::multiline);
  std::smatch m;
  return std::regex_search(r->body, m, line) ? std::stod(m[1].str()) : -1;
}

// Random English words: prompts of 8, 64 or 320 words (half short, a third medium, the rest long),
// different in every request, so that most prompts are prefilled rather than found in the cache.
std::string MakePrompt(std::mt19937_64& rng) {
  static constexpr const char* kWords[] = {
      "the",  "goose",   "river", "flew",  "over",    "a",     "quiet",   "field",
      "and",  "morning", "light", "fell",  "on",      "water", "where",   "reeds",
      "grew", "tall",    "while", "old",   "stories", "were",  "told",    "of",
      "long", "winter",  "roads", "north", "south",   "birds", "calling", "home"};
  std::discrete_distribution<int> kind({50, 35, 15});
  static constexpr int kLengths[] = {8, 64, 320};
  const int words = kLengths[kind(rng)];
  std::uniform_int_distribution<size_t> pick(0, std::size(kWords) - 1);
  std::string prompt = "Story:";
  for (int i = 0; i < words; ++i) prompt.append(" ").append(kWords[pick(rng)]);
  return prompt;
}

// The measured window: from the end of the warm-up to the end of the run. Both are set by the
// main thread once the warm-up has ended; until then they lie in the far future.
class Window {
 public:
  Clock::time_point from() const { return At(from_); }
  Clock::time_point deadline() const { return At(deadline_); }
  void Open(Clock::time_point from, Clock::duration length) {
    from_.store(from.time_since_epoch().count());
    deadline_.store((from + length).time_since_epoch().count());
  }
  void Close(Clock::time_point now) { deadline_.store(now.time_since_epoch().count()); }

 private:
  static Clock::time_point At(const std::atomic<Clock::rep>& t) {
    return Clock::time_point(Clock::duration(t.load()));
  }
  std::atomic<Clock::rep> from_{Clock::time_point::max().time_since_epoch().count()};
  std::atomic<Clock::rep> deadline_{Clock::time_point::max().time_since_epoch().count()};
};

// What one client saw. Latencies and counts cover the window; failures count at any time.
struct Tally {
  std::vector<double> ttft_ms;  // of the requests sent in the window
  std::vector<double> itl_ms;   // gaps that ended in the window
  int64_t requests = 0;         // sent in the window
  int64_t completed = 0;        // ended with [DONE] in the window
  int64_t rejected = 0;         // 429 (the queue was full) in the window
  int64_t cut = 0;              // still waiting or streaming at the end
  int64_t tokens = 0;           // completion tokens of the requests completed in the window
  std::vector<std::string> failures;
};

// One streaming response, read as its Server-Sent Events arrive.
class StreamReader {
 public:
  StreamReader(Clock::time_point sent, const Window& window)
      : sent_(sent), last_(sent), window_(window) {}

  void Feed(const char* data, size_t n, Tally& tally) {
    buffer_.append(data, n);
    size_t cut;
    while ((cut = buffer_.find("\n\n")) != std::string::npos) {
      const std::string event = buffer_.substr(0, cut);
      buffer_.erase(0, cut + 2);
      if (event.starts_with("data: ")) Event(event.substr(6), tally);
    }
  }

  // Why a finished stream is not a valid one, or "".
  std::string Problem() const {
    if (!error_.empty()) return error_;
    if (!done_) return "the stream ended without [DONE]";
    if (finishes_ != 1)
      return "the stream had " + std::to_string(finishes_) + " finish_reason(s), not 1";
    if (!usage_tokens_) return "the stream had no usage chunk";
    return "";
  }
  int64_t usage_tokens() const { return usage_tokens_.value_or(0); }

 private:
  void Event(const std::string& data, Tally& tally) {
    if (data == "[DONE]") {
      done_ = true;
      return;
    }
    const json chunk = json::parse(data, nullptr, /*allow_exceptions=*/false);
    if (chunk.is_discarded() || !chunk.is_object()) {
      error_ = "an event is not JSON: " + data.substr(0, 200);
    } else if (chunk.contains("error")) {
      error_ = "error event: " + chunk["error"].value("message", "");
    } else if (chunk.value("choices", json::array()).empty()) {
      if (chunk.contains("usage") && chunk["usage"].is_object()) {
        usage_tokens_ = chunk["usage"].value("completion_tokens", int64_t{0});
      }
    } else {
      const json& choice = chunk["choices"][0];
      if (!choice.value("text", "").empty()) Text(tally);
      if (choice.contains("finish_reason") && !choice["finish_reason"].is_null()) ++finishes_;
    }
  }

  void Text(Tally& tally) {
    const Clock::time_point now = Clock::now();
    const double ms = std::chrono::duration<double, std::milli>(now - last_).count();
    if (first_ && sent_ >= window_.from()) tally.ttft_ms.push_back(ms);
    if (!first_ && now >= window_.from()) tally.itl_ms.push_back(ms);
    first_ = false;
    last_ = now;
  }

  const Clock::time_point sent_;
  Clock::time_point last_;  // when the request was sent, then when the latest text came
  const Window& window_;
  std::string buffer_;
  bool first_ = true;
  bool done_ = false;
  int finishes_ = 0;
  std::optional<int64_t> usage_tokens_;
  std::string error_;
};

// Counts, shared with the main thread, of the requests each client has completed.
struct Progress {
  std::mutex mu;
  std::condition_variable changed;
  std::vector<int64_t> completed;
};

void RunClient(int index, const Endpoint& server, const Options& o, const Window& window,
               Progress& progress, Tally& tally) {
  std::mt19937_64 rng(static_cast<uint64_t>(index) + 1);
  std::uniform_int_distribution<int> max_tokens(o.min_tokens, o.max_tokens);
  httplib::Client client(server.host, server.port);
  client.set_read_timeout(600);
  while (Clock::now() < window.deadline()) {
    json body = {{"prompt", MakePrompt(rng)},
                 {"max_tokens", max_tokens(rng)},
                 {"seed", static_cast<int64_t>(rng() >> 1)},
                 {"stream", true},
                 {"stream_options", {{"include_usage", true}}}};
    if (o.top_p >= 0) body["top_p"] = o.top_p;
    httplib::Request request;
    request.method = "POST";
    request.path = "/v1/completions";
    request.body = body.dump();
    request.set_header("Content-Type", "application/json");
    int status = 0;
    std::string retry_after, error_body;
    bool cut = false;
    const Clock::time_point sent = Clock::now();
    StreamReader reader(sent, window);
    request.response_handler = [&](const httplib::Response& r) {
      status = r.status;
      retry_after = r.get_header_value("Retry-After");
      return true;
    };
    request.content_receiver = [&](const char* data, size_t n, uint64_t, uint64_t) {
      if (status != 200) {
        error_body.append(data, n);
        return true;
      }
      if (Clock::now() >= window.deadline()) {
        cut = true;
        return false;  // closes the connection: the server frees the slot
      }
      reader.Feed(data, n, tally);
      return true;
    };
    const httplib::Result result = client.send(request);
    const bool in_window = sent >= window.from();
    tally.requests += in_window;
    if (cut || (result.error() != httplib::Error::Success && Clock::now() >= window.deadline())) {
      ++tally.cut;
    } else if (result.error() != httplib::Error::Success) {
      const double after = std::chrono::duration<double>(Clock::now() - sent).count();
      tally.failures.push_back("connection: " + httplib::to_string(result.error()) + " after " +
                               std::to_string(after) + " s" +
                               (status == 0 ? ", before the response's headers"
                                            : ", HTTP " + std::to_string(status) + " received"));
    } else if (status == 429) {
      tally.rejected += in_window;
      // Back off as the server asks, but not past the end of the run.
      const int seconds = retry_after.empty() ? 1 : std::max(1, std::atoi(retry_after.c_str()));
      std::this_thread::sleep_until(
          std::min(window.deadline(), Clock::now() + std::chrono::seconds(seconds)));
    } else if (status != 200) {
      tally.failures.push_back("HTTP " + std::to_string(status) + ": " + error_body.substr(0, 300));
    } else if (const std::string problem = reader.Problem(); !problem.empty()) {
      tally.failures.push_back(problem);
    } else {
      if (Clock::now() >= window.from()) {
        ++tally.completed;
        tally.tokens += reader.usage_tokens();
      }
      std::lock_guard lock(progress.mu);
      ++progress.completed[static_cast<size_t>(index)];
      progress.changed.notify_all();
    }
  }
}

double Percentile(std::vector<double> values, double p) {
  if (values.empty()) return 0.0;
  std::sort(values.begin(), values.end());
  const size_t rank = static_cast<size_t>(std::ceil(p * static_cast<double>(values.size())));
  return values[std::clamp<size_t>(rank, 1, values.size()) - 1];
}

// The warm-up: until every client has completed a request (every connection and handler thread
// of the server has worked), the server's prefix cache has evicted an entry (when
// `cache_must_fill`), and the server's RSS (when `pid` > 0) has grown by less than 1 % while
// every client completed two more requests on average and for at least `settle`: the allocator's
// high-water mark is reached only once rarer coincidences of prompts, replies and cache entries
// have happened. Checked whenever a request completes; false if not over by `limit`.
bool WarmUp(const Endpoint& server, bool cache_must_fill, int pid, Clock::duration settle,
            Clock::time_point limit, Progress& progress) {
  constexpr double kSettledGrowth = 1.01;
  const auto settle_requests = 2 * static_cast<int64_t>(progress.completed.size());
  std::unique_lock lock(progress.mu);
  int64_t seen = -1;
  std::optional<Clock::time_point> settled_since;
  int64_t settled_rss = 0;
  int64_t settled_total = 0;
  while (true) {
    const int64_t total =
        std::accumulate(progress.completed.begin(), progress.completed.end(), int64_t{0});
    const bool every_client = std::all_of(progress.completed.begin(), progress.completed.end(),
                                          [](int64_t n) { return n > 0; });
    if (every_client && total != seen) {
      seen = total;
      lock.unlock();
      const bool full = !cache_must_fill || Metric(server, "anser_state_cache_evictions_total") > 0;
      const Clock::time_point now = Clock::now();
      const int64_t rss = pid > 0 ? RssKiB(pid) : 0;
      if (full && (!settled_since || static_cast<double>(rss) > kSettledGrowth * settled_rss)) {
        settled_since = now;
        settled_rss = rss;
        settled_total = total;
      }
      lock.lock();
      if (settled_since && (pid <= 0 || (now - *settled_since >= settle &&
                                         total - settled_total >= settle_requests))) {
        return true;
      }
    }
    if (progress.changed.wait_until(lock, limit) == std::cv_status::timeout) return false;
  }
}

int Run(const Options& o) {
  ServerProcess process;
  Endpoint server;
  int pid = o.pid;
  if (o.url.empty()) {
    if (const std::string error = process.Start(o); !error.empty()) {
      std::fprintf(stderr, "serve_load: %s\n%s", error.c_str(), process.LogTail().c_str());
      return 1;
    }
    pid = process.pid();
    server = *LoopbackEndpoint(process.url());
  } else {
    const std::optional<Endpoint> endpoint = LoopbackEndpoint(o.url);
    if (!endpoint) {
      std::fprintf(stderr,
                   "serve_load: --url must be http://127.0.0.1:PORT, http://localhost:PORT or "
                   "http://[::1]:PORT: this load test only targets this machine\n");
      return 2;
    }
    server = *endpoint;
  }

  const Clock::time_point start = Clock::now();
  Window window;
  Progress progress;
  progress.completed.assign(static_cast<size_t>(o.clients), 0);
  std::vector<Tally> tallies(static_cast<size_t>(o.clients));
  std::vector<std::thread> clients;
  for (int i = 0; i < o.clients; ++i) {
    clients.emplace_back(RunClient, i, std::cref(server), std::cref(o), std::cref(window),
                         std::ref(progress), std::ref(tallies[static_cast<size_t>(i)]));
  }
  const bool cache_must_fill = o.url.empty() && o.state_cache_mb > 0;
  const auto seconds = [](double s) {
    return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(s));
  };
  const bool warmed_up = WarmUp(server, cache_must_fill, pid, seconds(o.rss_settle_seconds),
                                start + seconds(o.warmup_limit), progress);
  const Clock::time_point from = Clock::now();
  const int64_t rss_warm = pid > 0 ? RssKiB(pid) : -1;
  if (warmed_up) {
    window.Open(from, seconds(o.seconds));
  } else {
    window.Close(from);
  }
  for (std::thread& t : clients) t.join();
  const int64_t rss_end = pid > 0 ? RssKiB(pid) : -1;

  Tally all;
  for (Tally& t : tallies) {
    all.ttft_ms.insert(all.ttft_ms.end(), t.ttft_ms.begin(), t.ttft_ms.end());
    all.itl_ms.insert(all.itl_ms.end(), t.itl_ms.begin(), t.itl_ms.end());
    all.requests += t.requests;
    all.completed += t.completed;
    all.rejected += t.rejected;
    all.cut += t.cut;
    all.tokens += t.tokens;
    all.failures.insert(all.failures.end(), t.failures.begin(), t.failures.end());
  }
  if (o.url.empty()) {
    const int status = process.Stop();
    if (status != 0)
      all.failures.push_back("the server exited with status " + std::to_string(status) +
                             " on SIGTERM");
  }
  const bool rss_known = rss_warm > 0 && rss_end > 0;
  const double rss_growth =
      rss_known ? static_cast<double>(rss_end - rss_warm) / static_cast<double>(rss_warm) : 0.0;
  const nlohmann::ordered_json report = {
      {"clients", o.clients},
      {"top_p", o.top_p >= 0 ? json(o.top_p) : json(nullptr)},
      {"warmup_seconds", std::chrono::duration<double>(from - start).count()},
      {"seconds", warmed_up ? o.seconds : 0.0},
      {"requests", all.requests},
      {"completed", all.completed},
      {"rejected_429", all.rejected},
      {"cut_at_end", all.cut},
      {"failures", all.failures.size()},
      {"tokens", all.tokens},
      {"tokens_per_second", warmed_up ? static_cast<double>(all.tokens) / o.seconds : 0.0},
      {"ttft_p50_ms", Percentile(all.ttft_ms, 0.50)},
      {"ttft_p99_ms", Percentile(all.ttft_ms, 0.99)},
      {"itl_p50_ms", Percentile(all.itl_ms, 0.50)},
      {"itl_p99_ms", Percentile(all.itl_ms, 0.99)},
      {"rss_after_warmup_kib", rss_warm > 0 ? json(rss_warm) : json(nullptr)},
      {"rss_end_kib", rss_end > 0 ? json(rss_end) : json(nullptr)},
      {"rss_growth", rss_known ? json(rss_growth) : json(nullptr)}};
  std::printf("%s\n", report.dump().c_str());

  int exit_code = 0;
  for (size_t i = 0; i < std::min<size_t>(all.failures.size(), 10); ++i) {
    std::fprintf(stderr, "serve_load: failed request: %s\n", all.failures[i].c_str());
  }
  if (!all.failures.empty()) exit_code = 1;
  if (!warmed_up) {
    std::fprintf(stderr,
                 "serve_load: the warm-up (every client served once%s%s) did not end within %g s\n",
                 cache_must_fill ? ", the state cache full" : "",
                 pid > 0 ? ", the server's RSS settled" : "", o.warmup_limit);
    exit_code = 1;
  } else if (all.completed == 0) {
    std::fprintf(stderr, "serve_load: no request completed in the %g s after the warm-up\n",
                 o.seconds);
    exit_code = 1;
  }
  if (warmed_up && rss_known && o.max_rss_growth >= 0 && rss_growth > o.max_rss_growth) {
    std::fprintf(stderr,
                 "serve_load: the server's RSS grew by %.1f %% after the warm-up (limit %.1f %%)\n",
                 100 * rss_growth, 100 * o.max_rss_growth);
    exit_code = 1;
  }
  return exit_code;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  CLI::App app{
      "Load test of anser serve over loopback: N streaming clients for T seconds with mixed prompt "
      "lengths. Prints "
      "one JSON object (latency percentiles, tokens/s, request counts, the server's RSS); exits "
      "non-zero on a failed "
      "request or an RSS growth over the limit.",
      "serve_load"};
  app.add_option("--url", o.url, "A running server (loopback only) instead of starting one")
      ->type_name("URL");
  app.add_option("--pid", o.pid, "With --url: the server's process id, to sample its RSS");
  app.add_option("--anser", o.anser, "The anser binary that starts the server")
      ->capture_default_str();
  app.add_option("-m,--model", o.model,
                 "Model of the server it starts (default: anser's default model)");
  app.add_option("--vocab", o.vocab, "World vocabulary file of that model");
  app.add_option("--threads", o.threads, "Server threads")
      ->check(CLI::Range(1, 1024))
      ->capture_default_str();
  app.add_option("--parallel", o.parallel, "Server's --parallel")
      ->check(CLI::Range(1, 256))
      ->capture_default_str();
  app.add_option("--queue", o.queue, "Server's --queue")
      ->check(CLI::Range(0, 4096))
      ->capture_default_str();
  app.add_option("--state-cache-mb", o.state_cache_mb, "Server's --state-cache-mb (0 = off)")
      ->check(CLI::Range(0, 1 << 20))
      ->capture_default_str();
  app.add_option("-c,--clients", o.clients, "Concurrent streaming clients")
      ->check(CLI::Range(1, 1024))
      ->capture_default_str();
  app.add_option("-t,--seconds", o.seconds, "Length of the measured run, after the warm-up")
      ->check(CLI::Range(1.0, 3600.0))
      ->capture_default_str();
  app.add_option("--min-tokens", o.min_tokens, "Smallest max_tokens of a request")
      ->check(CLI::Range(1, 1 << 20))
      ->capture_default_str();
  app.add_option("--max-tokens", o.max_tokens, "Largest max_tokens of a request")
      ->check(CLI::Range(1, 1 << 20))
      ->capture_default_str();
  app.add_option("--warmup-limit", o.warmup_limit,
                 "Longest warm-up (every client served once, and the state cache of a server "
                 "started here full)")
      ->check(CLI::Range(1.0, 3600.0))
      ->capture_default_str();
  app.add_option(
         "--rss-settle-seconds", o.rss_settle_seconds,
         "The warm-up also waits until the server's RSS has grown by less than 1 % for this long "
         "(and two requests per client)")
      ->check(CLI::Range(0.0, 600.0))
      ->capture_default_str();
  app.add_option("--top-p", o.top_p, "top_p of every request (default: the server's)")
      ->check(CLI::Range(0.0, 1.0));
  app.add_option("--max-rss-growth", o.max_rss_growth,
                 "Largest RSS growth from the end of the warm-up to the end, as a fraction "
                 "(negative: no check)")
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  if (o.min_tokens > o.max_tokens) {
    std::fprintf(stderr, "serve_load: --min-tokens must not exceed --max-tokens\n");
    return 2;
  }
  return Run(o);
}
