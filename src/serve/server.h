// `anser serve`: the whole server process — bind, load the model while /health says 503, serve
// until SIGINT or SIGTERM, then end the open streams and exit.
#pragma once

#include <functional>
#include <string>

#include "serve/http_server.h"
#include "serve/service.h"

namespace anser::serve {

struct ServerOptions {
  std::string model_path;
  std::string vocab;  // World vocabulary file ("" = beside the model, then $ANSER_VOCAB)
  std::string host = "127.0.0.1";
  int port = 8080;
  std::string chat_template_file;
  std::string state_file;  // the initial state of every request ("" = zero)
  HttpOptions http;
  ServiceOptions service;  // model_name "" = the model file's name
};

// Runs the server until SIGINT or SIGTERM; `log` receives the lines for stderr ("listening on
// http://HOST:PORT" once requests are accepted, loading progress, one line per request).
// Returns the process exit code.
int RunServer(const ServerOptions& options, const LogLine& log);

}  // namespace anser::serve
