// Two `anser serve` replicas behind nginx with deploy/nginx/anser.conf: conversations stay on one
// replica (their cached states keep hitting), requests without a session spread out, and a dead
// replica's requests move to the live one.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "server_process.h"

namespace anser::serve {
namespace {

using nlohmann::json;
using testing::ServerProcess;

const std::string kShared = ANSER_SHARED_DIR;

// A port nothing listens on now (the kernel's next free one).
int FreePort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  socklen_t len = sizeof(addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

std::string Replace(std::string text, const std::string& from, const std::string& to) {
  for (size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size())) {
    text.replace(at, from.size(), to);
  }
  return text;
}

// nginx in the foreground, as a child of the test, with deploy/nginx/anser.conf pointed at the
// replicas' ports and listening on a free port.
class Nginx {
 public:
  Nginx(int port, int replica_a, int replica_b) : port_(port) {
    dir_ = std::filesystem::temp_directory_path() / ("anser_nginx_" + std::to_string(getpid()));
    std::filesystem::create_directories(dir_);
    std::ifstream in(std::string(ANSER_SOURCE_DIR) + "/deploy/nginx/anser.conf");
    std::stringstream site;
    site << in.rdbuf();
    std::string conf = Replace(site.str(), "127.0.0.1:8081", "127.0.0.1:" + std::to_string(replica_a));
    conf = Replace(conf, "127.0.0.1:8082", "127.0.0.1:" + std::to_string(replica_b));
    conf = Replace(conf, "listen 8080;", "listen 127.0.0.1:" + std::to_string(port) + ";");
    std::ofstream(dir_ / "anser.conf") << conf;
    const std::string d = dir_.string();
    std::ofstream(dir_ / "nginx.conf") << (geteuid() == 0 ? "user root;\n" : "") << "worker_processes 1;\n"
                                       << "pid " << d << "/nginx.pid;\nerror_log " << d << "/error.log;\n"
                                       << "events { worker_connections 256; }\nhttp {\n  access_log " << d
                                       << "/access.log;\n  client_body_temp_path " << d << "/body;\n  proxy_temp_path " << d
                                       << "/proxy;\n  fastcgi_temp_path " << d << "/fastcgi;\n  uwsgi_temp_path " << d
                                       << "/uwsgi;\n  scgi_temp_path " << d << "/scgi;\n  include " << d << "/anser.conf;\n}\n";
    pid_ = fork();
    if (pid_ == 0) {
      execl(ANSER_NGINX, ANSER_NGINX, "-p", d.c_str(), "-c", (d + "/nginx.conf").c_str(), "-g", "daemon off;",
            static_cast<char*>(nullptr));
      _exit(127);
    }
  }
  ~Nginx() {
    kill(pid_, SIGTERM);
    waitpid(pid_, nullptr, 0);
    std::filesystem::remove_all(dir_);
  }
  // Waits until nginx answers (it accepts once it has read its configuration).
  bool Ready() const {
    httplib::Client client("127.0.0.1", port_);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < deadline) {
      if (client.Get("/health")) return true;
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) return false;  // it exited: a bad configuration
    }
    return false;
  }
  std::string ErrorLog() const {
    std::ifstream in(dir_ / "error.log");
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }

 private:
  int port_;
  pid_t pid_ = -1;
  std::filesystem::path dir_;
};

std::vector<std::string> SessionsIn(const ServerProcess& replica) {
  std::vector<std::string> sessions;
  for (const std::string& line : replica.Log()) {
    const size_t at = line.find("session=");
    if (at != std::string::npos) sessions.push_back(line.substr(at + 8));
  }
  return sessions;
}

TEST(Nginx, ConversationsStayOnOneReplicaAndFailOver) {
  const std::vector<std::string> args = {"-m", kShared + "/fixtures/rand-rwkv7-L3-D128-world/model.bf16.pth",
                                         "--vocab", kShared + "/vocab/rwkv_vocab_v20230424.txt", "--threads", "1"};
  auto a = ServerProcess::Start(args);
  auto b = ServerProcess::Start(args);
  ASSERT_TRUE(a && b);
  const int port = FreePort();
  Nginx nginx(port, a->port(), b->port());
  ASSERT_TRUE(nginx.Ready()) << nginx.ErrorLog();
  httplib::Client client("127.0.0.1", port);
  client.set_read_timeout(60);

  // Ten conversations of three turns, each with its own session: every later turn finds the
  // conversation so far cached on its replica.
  for (int c = 0; c < 10; ++c) {
    const std::string session = "conversation-" + std::to_string(c);
    json messages = json::array();
    for (int turn = 0; turn < 3; ++turn) {
      messages.push_back({{"role", "user"}, {"content", "Turn " + std::to_string(turn) + " of " + session}});
      const json body = {{"messages", messages}, {"max_tokens", 6}, {"seed", c}};
      const auto r = client.Post("/v1/chat/completions", {{"X-Session-Id", session}}, body.dump(), "application/json");
      ASSERT_TRUE(r);
      ASSERT_EQ(r->status, 200) << r->body;
      const json reply = json::parse(r->body);
      if (turn > 0) {
        EXPECT_GT(reply["usage"]["prompt_tokens_details"]["cached_tokens"].get<int>(), 0) << session;
      }
      messages.push_back({{"role", "assistant"}, {"content", reply["choices"][0]["message"]["content"]}});
    }
  }
  // Each replica's request log shows only its own sessions, and both have some.
  ASSERT_TRUE(a->WaitForLog("session=conversation-", std::chrono::seconds(5)) ||
              b->WaitForLog("session=conversation-", std::chrono::seconds(5)));
  const std::vector<std::string> on_a = SessionsIn(*a), on_b = SessionsIn(*b);
  const std::set<std::string> set_a(on_a.begin(), on_a.end()), set_b(on_b.begin(), on_b.end());
  EXPECT_EQ(on_a.size() + on_b.size(), 30u);
  EXPECT_EQ(set_a.size() + set_b.size(), 10u);  // no session on both
  EXPECT_FALSE(set_a.empty());
  EXPECT_FALSE(set_b.empty());

  // One replica dies: requests without a session all succeed through the other.
  const int survivor_requests_before = static_cast<int>(b->Log().size());
  kill(a->pid(), SIGKILL);
  for (int i = 0; i < 10; ++i) {
    const auto r = client.Post("/v1/completions", json({{"prompt", "after"}, {"max_tokens", 2}}).dump(), "application/json");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200) << r->body;
  }
  EXPECT_GE(static_cast<int>(b->Log().size()), survivor_requests_before + 10);
}

}  // namespace
}  // namespace anser::serve
