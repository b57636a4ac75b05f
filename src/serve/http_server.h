// The HTTP front end: OpenAI's routes and the state API on cpp-httplib, kept thin — it checks
// keys and body sizes, parses JSON, and hands everything else to the Service.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>

#include "serve/metrics.h"
#include "serve/service.h"

namespace httplib {
class Server;
struct Request;
}

namespace anser::serve {

struct HttpOptions {
  std::string api_key;  // "" = no key needed
  int64_t body_limit_bytes = int64_t{8} << 20;
  int connections = 80;  // handler threads: every open stream holds one
};

using LogLine = std::function<void(const std::string& line)>;

class HttpServer {
 public:
  HttpServer(HttpOptions options, LogLine log);
  ~HttpServer();

  // Binds to host:port (0 = any free port); returns the port, or an error.
  Result<int> Bind(const std::string& host, int port);
  // Serves on the calling thread until Stop.
  void Listen();
  void Stop();
  // Until this is called, every model route answers 503 (the model is loading).
  void SetService(Service* service) { service_.store(service); }

 private:
  void Routes();
  // The largest body `req`'s route takes.
  int64_t BodyLimit(const httplib::Request& req) const;
  Service* service() const { return service_.load(); }

  HttpOptions options_;
  LogLine log_;
  std::unique_ptr<httplib::Server> server_;
  std::atomic<Service*> service_{nullptr};
  RequestCounter requests_;
};

}  // namespace anser::serve
