#include "serve/server.h"

#include <signal.h>

#include <filesystem>
#include <thread>

namespace anser::serve {
namespace {

std::string ModelName(const std::string& path) {
  const std::filesystem::path p(path);
  const std::string stem = p.has_filename() ? p.stem().string() : p.parent_path().filename().string();
  return stem.empty() ? "anser" : stem;
}

struct Loaded {
  std::unique_ptr<Service> service;
  std::string description;
};

Result<Loaded> Load(const ServerOptions& o) {
  ANSER_ASSIGN_OR_RETURN(std::shared_ptr<const Model> model, Model::Load(o.model_path));
  const ModelConfig& config = model->config();
  ANSER_ASSIGN_OR_RETURN(std::unique_ptr<Tokenizer> tokenizer, TokenizerForModel(o.model_path, config.n_vocab, o.vocab));
  ChatTemplate chat;
  if (!o.chat_template_file.empty()) {
    ANSER_ASSIGN_OR_RETURN(chat, ChatTemplate::Load(o.chat_template_file));
  }
  SnapshotPtr server_state;
  if (!o.state_file.empty()) {
    ANSER_ASSIGN_OR_RETURN(State state, State::Load(o.state_file, config));
    if (!state.AllFinite()) return Status::Error("--state '" + o.state_file + "' holds NaN or infinite values");
    server_state = std::make_shared<Snapshot>(Snapshot{std::move(state), {}, 0});
  }
  ServiceOptions so = o.service;
  if (so.model_name.empty()) so.model_name = ModelName(o.model_path);
  Loaded loaded;
  loaded.description = so.model_name + ": " + std::to_string(config.n_layer) + " layers, " +
                       std::to_string(config.n_embd) + " wide, vocabulary " + std::to_string(config.n_vocab) +
                       (tokenizer ? "" : " (no tokenizer: prompts are token ids)");
  loaded.service =
      std::make_unique<Service>(std::move(model), std::move(tokenizer), std::move(chat), std::move(server_state), so);
  return loaded;
}

}  // namespace

int RunServer(const ServerOptions& options, const LogLine& log) {
  // Signals are taken by sigwait on this thread alone: blocked here before any thread starts, so
  // every thread inherits the mask.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  // A client that disconnects mid-write must not kill the process.
  signal(SIGPIPE, SIG_IGN);

  HttpServer http(options.http, log);
  const Result<int> port = http.Bind(options.host, options.port);
  if (!port.ok()) {
    log("error: " + port.message());
    return 1;
  }
  std::thread listener([&] { http.Listen(); });
  log("listening on http://" + options.host + ":" + std::to_string(port.value()));

  log("loading " + options.model_path + " …");
  Result<Loaded> loaded = Load(options);
  if (!loaded.ok()) {
    log("error: " + loaded.message());
    http.Stop();
    listener.join();
    return 1;
  }
  http.SetService(loaded->service.get());
  log("model ready: " + loaded->description);

  int signal_number = 0;
  sigwait(&signals, &signal_number);
  log(std::string("received ") + (signal_number == SIGINT ? "SIGINT" : "SIGTERM") + ": shutting down");
  loaded->service->engine().Shutdown({503, "unavailable_error", "server shutting down", "", "shutting_down"});
  http.Stop();
  listener.join();
  return 0;
}

}  // namespace anser::serve
