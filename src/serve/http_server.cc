#include "serve/http_server.h"

#include <httplib.h>
#include <sys/socket.h>

#include <charconv>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "serve/chat_page.h"

namespace anser::serve {
namespace {

using nlohmann::json;
using httplib::Request;
using httplib::Response;

constexpr auto kEventWait = std::chrono::milliseconds(100);
// Bodies over a route's limit by at most this much are read (and then refused with 413), so that
// the client, still sending, sees the answer; larger ones are refused before they are read and
// the connection is closed. Bodies without a Content-Length stop at kMaxBody.
constexpr int64_t kReadOverLimit = int64_t{16} << 20;
constexpr int64_t kMaxBody = int64_t{256} << 20;

// Each connection runs on one handler thread, one request at a time: the time a request arrived
// travels from the pre-routing handler to its route and to the logger in a thread-local.
thread_local Clock::time_point t_request_start;

void SendJson(Response& res, const json& body, int status = 200) {
  res.status = status;
  res.set_content(Dump(body), "application/json");
}

void SendError(Response& res, const ApiError& e) { SendJson(res, ErrorJson(e), e.status); }

const char* ErrorType(int status) {
  switch (status) {
    case 401:
      return "authentication_error";
    case 404:
      return "not_found_error";
    case 408:
      return "timeout_error";
    case 429:
      return "rate_limit_error";
    case 503:
      return "unavailable_error";
    default:
      return status >= 500 ? "server_error" : "invalid_request_error";
  }
}

ApiError Unavailable(const std::string& message) { return {503, "unavailable_error", message, "", ""}; }

ApiError TooLarge(int64_t bytes, int64_t limit) {
  return {413, "invalid_request_error",
          "the request body is " + std::to_string(bytes) + " bytes, over the server's limit of " + std::to_string(limit) +
              " (--body-limit-mb)",
          "", "request_too_large"};
}

std::optional<json> ParseBody(const Request& req, Response& res, int64_t limit) {
  if (static_cast<int64_t>(req.body.size()) > limit) {
    SendError(res, TooLarge(static_cast<int64_t>(req.body.size()), limit));
    return std::nullopt;
  }
  json body = json::parse(req.body, nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded()) {
    SendError(res, ApiError::Invalid("", "the request body is not valid JSON"));
    return std::nullopt;
  }
  return body;
}

bool IsPublic(const std::string& path) { return path == "/" || path == "/health" || path == "/v1/health"; }

// The state a stream is in across calls of its content provider.
struct StreamContext {
  std::shared_ptr<Job> job;
  ResponseBuilder builder;
  bool opened = false;
};

}  // namespace

HttpServer::HttpServer(HttpOptions options, LogLine log)
    : options_(std::move(options)), log_(std::move(log)), server_(std::make_unique<httplib::Server>()) {
  const size_t threads = static_cast<size_t>(std::max(options_.connections, 4));
  server_->new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  // Short keep-alive: an idle connection holds a handler thread, and shutdown waits for them.
  server_->set_keep_alive_timeout(2);
  server_->set_read_timeout(30);
  server_->set_payload_max_length(static_cast<size_t>(std::max(options_.body_limit_bytes, kMaxBody)));
  Routes();
}

HttpServer::~HttpServer() = default;

Result<int> HttpServer::Bind(const std::string& host, int port) {
  // The listening socket is set up here rather than by cpp-httplib's defaults, which set
  // SO_REUSEPORT (a second server on the same port would bind too, and take half the
  // connections) and listen with a backlog of 5, fixed when Debian's library was compiled (a
  // burst of new connections, 32 clients starting at once, overflows it and the kernel drops
  // some). SO_REUSEADDR alone lets a restarted server bind at once; a second listen() after the
  // bind gives the socket the system's largest backlog (Linux applies the new one).
  int listening = -1;
  server_->set_socket_options([&listening](socket_t s) {
    const int yes = 1;
    setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
    listening = s;
  });
  const int bound = port == 0 ? server_->bind_to_any_port(host) : (server_->bind_to_port(host, port) ? port : -1);
  server_->set_socket_options(nullptr);
  if (bound < 0) {
    return Status::Error("cannot listen on " + host + ":" + std::to_string(port) +
                         ": the address is in use or not available here (choose another --host/--port; --port 0 "
                         "picks a free one)");
  }
  ::listen(listening, SOMAXCONN);
  return bound;
}

void HttpServer::Listen() { server_->listen_after_bind(); }

void HttpServer::Stop() { server_->stop(); }

int64_t HttpServer::BodyLimit(const httplib::Request& req) const {
  // A state upload may always be as large as the model's state file and a margin.
  if (req.method == "PUT" && req.path.starts_with("/v1/states/") && service() != nullptr) {
    return std::max(options_.body_limit_bytes, service()->state_file_bytes() + (int64_t{1} << 20));
  }
  return options_.body_limit_bytes;
}

void HttpServer::Routes() {
  httplib::Server& s = *server_;

  s.set_pre_routing_handler([this](const Request& req, Response& res) {
    t_request_start = Clock::now();
    // Every body here is JSON or a state file. `curl -d` labels bodies as form data, which
    // cpp-httplib would parse as such and refuse above 8 KiB; relabelled, they are read as
    // sent. (The request object is httplib's own, not const; only the handler's view is.)
    if (req.get_header_value("Content-Type") == "application/x-www-form-urlencoded") {
      auto& headers = const_cast<Request&>(req).headers;
      headers.erase("Content-Type");
      headers.emplace("Content-Type", "application/octet-stream");
    }
    if (req.has_header("X-Session-Id")) res.set_header("X-Session-Id", req.get_header_value("X-Session-Id"));
    if (!options_.api_key.empty() && !IsPublic(req.path) &&
        req.get_header_value("Authorization") != "Bearer " + options_.api_key) {
      // Refused before its body is read: whatever part of the body was not yet buffered would be
      // taken for the next request's first line (a 30-second read timeout, and a shutdown that
      // waits for it), so this connection ends here.
      res.set_header("Connection", "close");
      SendError(res, {401, "authentication_error",
                      "a valid API key is required: send the header 'Authorization: Bearer KEY'", "", "invalid_api_key"});
      return httplib::Server::HandlerResponse::Handled;
    }
    const int64_t limit = BodyLimit(req);
    const std::string length = req.get_header_value("Content-Length");
    int64_t bytes = 0;
    if (!length.empty() && std::from_chars(length.data(), length.data() + length.size(), bytes).ec == std::errc() &&
        bytes > limit + kReadOverLimit) {
      // The body stays unread, so this connection cannot carry another request.
      res.set_header("Connection", "close");
      SendError(res, TooLarge(bytes, limit));
      return httplib::Server::HandlerResponse::Handled;
    }
    return httplib::Server::HandlerResponse::Unhandled;
  });

  s.set_error_handler(httplib::Server::HandlerWithResponse([](const Request& req, Response& res) {
    if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
    std::string message = "HTTP " + std::to_string(res.status);
    if (res.status == 404) message = "no route " + req.method + " " + req.path;
    if (res.status == 413) message = "the request body is over the server's limit (--body-limit-mb)";
    SendError(res, {res.status, ErrorType(res.status), message, "", ""});
    return httplib::Server::HandlerResponse::Handled;
  }));

  s.set_exception_handler([](const Request&, Response& res, std::exception_ptr ep) {
    std::string what = "unknown error";
    try {
      std::rethrow_exception(ep);
    } catch (const std::exception& e) {
      what = e.what();
    } catch (...) {
    }
    SendError(res, ApiError::Server("internal error: " + what));
  });

  s.set_logger([this](const Request& req, const Response& res) {
    requests_.Count(res.status);
    char line[512];
    const double seconds = std::chrono::duration<double>(Clock::now() - t_request_start).count();
    const std::string session = req.get_header_value("X-Session-Id");
    std::snprintf(line, sizeof(line), "%s %s %d %.3fs%s%s", req.method.c_str(), req.path.c_str(), res.status, seconds,
                  session.empty() ? "" : " session=", session.substr(0, 128).c_str());
    log_(line);
  });

  s.Get("/", [](const Request&, Response& res) { res.set_content(ChatPageHtml(), "text/html; charset=utf-8"); });

  const auto health = [this](const Request&, Response& res) {
    if (service() == nullptr) {
      SendJson(res, {{"error", {{"code", 503}, {"message", "Loading model"}, {"type", "unavailable_error"}}}}, 503);
    } else {
      SendJson(res, {{"status", "ok"}});
    }
  };
  s.Get("/health", health);
  s.Get("/v1/health", health);

  s.Get("/metrics", [this](const Request&, Response& res) {
    Service* svc = service();
    if (svc == nullptr) return SendError(res, Unavailable("the model is loading"));
    res.set_content(PrometheusText(requests_, svc->engine().stats()), "text/plain; version=0.0.4");
  });

  s.Get("/v1/models", [this](const Request&, Response& res) {
    Service* svc = service();
    if (svc == nullptr) return SendError(res, Unavailable("the model is loading"));
    SendJson(res, {{"object", "list"},
                   {"data", json::array({{{"id", svc->options().model_name},
                                          {"object", "model"},
                                          {"created", 0},
                                          {"owned_by", "anser"}}})}});
  });

  const auto generate = [this](Endpoint endpoint) {
    return [this, endpoint](const Request& req, Response& res) {
      Service* svc = service();
      if (svc == nullptr) return SendError(res, Unavailable("the model is loading"));
      const std::optional<json> body = ParseBody(req, res, BodyLimit(req));
      if (!body) return;
      const ServiceOptions& o = svc->options();
      Parsed<GenerationRequest> parsed = ParseGenerationRequest(
          *body, endpoint, o.limits, endpoint == Endpoint::kChatCompletions ? o.chat_sampling : o.completion_sampling,
          req.body);
      if (auto* e = std::get_if<ApiError>(&parsed)) return SendError(res, *e);
      const GenerationRequest& r = std::get<GenerationRequest>(parsed);
      Parsed<std::shared_ptr<Job>> job = svc->Prepare(r, t_request_start);
      if (auto* e = std::get_if<ApiError>(&job)) return SendError(res, *e);
      std::shared_ptr<Job>& j = std::get<std::shared_ptr<Job>>(job);
      switch (svc->engine().Submit(j)) {
        case Engine::Admission::kQueued:
          break;
        case Engine::Admission::kQueueFull:
          res.set_header("Retry-After", "1");
          return SendError(res, {429, "rate_limit_error", "the server is busy: its queue is full (--queue); retry later",
                                 "", "queue_full"});
        case Engine::Admission::kShuttingDown:
          return SendError(res, Unavailable("the server is shutting down"));
      }
      ResponseBuilder builder(svc->ResponseFor(r));
      if (!r.stream) {
        while (!builder.done()) {
          for (JobEvent& e : j->Take(kEventWait)) builder.Collect(e);
        }
        if (builder.error()) return SendError(res, *builder.error());
        return SendJson(res, builder.Response());
      }
      res.set_header("Cache-Control", "no-cache");
      res.set_header("X-Accel-Buffering", "no");
      auto stream = std::make_shared<StreamContext>(StreamContext{j, std::move(builder)});
      res.set_chunked_content_provider(
          "text/event-stream",
          [stream](size_t, httplib::DataSink& sink) {
            const auto send = [&](const std::string& text) { return text.empty() || sink.write(text.data(), text.size()); };
            if (!stream->opened) {
              stream->opened = true;
              if (!send(stream->builder.Opening())) return false;
            }
            while (!stream->builder.done()) {
              if (!sink.is_writable()) return false;
              for (JobEvent& e : stream->job->Take(kEventWait)) {
                if (!send(stream->builder.Stream(e))) return false;
              }
            }
            sink.done();
            return true;
          },
          [stream](bool success) {
            if (!success) stream->job->Cancel();
          });
    };
  };
  s.Post("/v1/completions", generate(Endpoint::kCompletions));
  s.Post("/v1/chat/completions", generate(Endpoint::kChatCompletions));

  s.Post("/tokenize", [this](const Request& req, Response& res) {
    Service* svc = service();
    if (svc == nullptr) return SendError(res, Unavailable("the model is loading"));
    if (svc->tokenizer() == nullptr) return SendError(res, ApiError::Invalid("", "this model has no tokenizer"));
    const std::optional<json> body = ParseBody(req, res, BodyLimit(req));
    if (!body) return;
    Parsed<std::string> text = ParseTokenizeRequest(*body);
    if (auto* e = std::get_if<ApiError>(&text)) return SendError(res, *e);
    SendJson(res, {{"tokens", svc->tokenizer()->Encode(std::get<std::string>(text))}});
  });

  s.Post("/detokenize", [this](const Request& req, Response& res) {
    Service* svc = service();
    if (svc == nullptr) return SendError(res, Unavailable("the model is loading"));
    if (svc->tokenizer() == nullptr) return SendError(res, ApiError::Invalid("", "this model has no tokenizer"));
    const std::optional<json> body = ParseBody(req, res, BodyLimit(req));
    if (!body) return;
    Parsed<std::vector<int>> ids = ParseDetokenizeRequest(*body, svc->config().n_vocab);
    if (auto* e = std::get_if<ApiError>(&ids)) return SendError(res, *e);
    const Result<std::string> text = svc->tokenizer()->Decode(std::get<std::vector<int>>(ids));
    if (!text.ok()) return SendError(res, ApiError::Invalid("tokens", text.message()));
    SendJson(res, {{"content", text.value()}});
  });

  s.Post("/v1/states", [this](const Request& req, Response& res) {
    Service* svc = service();
    if (svc == nullptr) return SendError(res, Unavailable("the model is loading"));
    const std::optional<json> body = ParseBody(req, res, BodyLimit(req));
    if (!body) return;
    Parsed<StateRequest> parsed = ParseStateRequest(*body, svc->options().limits);
    if (auto* e = std::get_if<ApiError>(&parsed)) return SendError(res, *e);
    Parsed<std::shared_ptr<Job>> job = svc->PrepareState(std::get<StateRequest>(parsed), t_request_start);
    if (auto* e = std::get_if<ApiError>(&job)) return SendError(res, *e);
    std::shared_ptr<Job>& j = std::get<std::shared_ptr<Job>>(job);
    if (svc->engine().Submit(j) != Engine::Admission::kQueued) {
      res.set_header("Retry-After", "1");
      return SendError(res, {429, "rate_limit_error", "the server is busy: its queue is full (--queue); retry later",
                             "", "queue_full"});
    }
    SnapshotPtr state;
    while (true) {
      for (JobEvent& e : j->Take(kEventWait)) {
        if (auto* end = std::get_if<ChoiceEnd>(&e)) state = end->final_state;
        if (auto* done = std::get_if<JobEnd>(&e)) {
          if (done->error) return SendError(res, *done->error);
          const std::string id = svc->states().Add(state);
          if (id.empty()) {
            return SendError(res, ApiError::Invalid("", "the state is larger than the server's --states-mb budget"));
          }
          return SendJson(res, {{"id", id}, {"object", "state"}, {"tokens", state->tokens}, {"bytes", state->bytes()}});
        }
      }
    }
  });

  const std::string state_route = R"(/v1/states/([A-Za-z0-9_.\-]{1,128}))";
  s.Get(state_route, [this](const Request& req, Response& res) {
    Service* svc = service();
    if (svc == nullptr) return SendError(res, Unavailable("the model is loading"));
    const std::string id = req.matches[1];
    const std::optional<NamedStates::Named> named = svc->states().Get(id);
    if (!named) return SendError(res, ApiError::NotFound("no state '" + id + "'"));
    Result<std::string> bytes = named->snapshot->state.Serialize();
    if (!bytes.ok()) return SendError(res, ApiError::Server(bytes.message()));
    res.set_header("Content-Disposition", "attachment; filename=\"" + id + ".pth\"");
    res.set_content(std::move(bytes).value(), "application/octet-stream");
  });

  s.Put(state_route, [this](const Request& req, Response& res) {
    Service* svc = service();
    if (svc == nullptr) return SendError(res, Unavailable("the model is loading"));
    const std::string id = req.matches[1];
    if (static_cast<int64_t>(req.body.size()) > BodyLimit(req)) {
      return SendError(res, TooLarge(static_cast<int64_t>(req.body.size()), BodyLimit(req)));
    }
    Result<State> state = State::Deserialize(req.body, svc->config());
    if (!state.ok()) return SendError(res, ApiError::Invalid("body", "not a state of this model: " + state.message()));
    if (!state->AllFinite()) return SendError(res, ApiError::Invalid("body", "the state holds NaN or infinite values"));
    auto snapshot = std::make_shared<Snapshot>(Snapshot{std::move(state).value(), {}, 0});
    const int64_t bytes = snapshot->bytes();
    if (!svc->states().Put(id, std::move(snapshot))) {
      return SendError(res, ApiError::Invalid("body", "the state is larger than the server's --states-mb budget"));
    }
    SendJson(res, {{"id", id}, {"object", "state"}, {"tokens", nullptr}, {"bytes", bytes}});
  });

  s.Delete(state_route, [this](const Request& req, Response& res) {
    Service* svc = service();
    if (svc == nullptr) return SendError(res, Unavailable("the model is loading"));
    const std::string id = req.matches[1];
    if (!svc->states().Remove(id)) return SendError(res, ApiError::NotFound("no state '" + id + "'"));
    SendJson(res, {{"id", id}, {"object", "state.deleted"}, {"deleted", true}});
  });
}

}  // namespace anser::serve
