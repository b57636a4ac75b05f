// Running requests through the server's Service in-process, without HTTP.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "serve/service.h"

namespace anser::serve::testing {

// A Service over a fixture model: "rand-rwkv7-L3-D128-world" (World vocabulary, bf16) or
// "tiny-rwkv7-834K" (bytes).
std::unique_ptr<Service> MakeService(const std::string& fixture, ServiceOptions options = {});

// A request on its way: submitted, its response collected later, so several run at once.
class Pending {
 public:
  Pending(Service& service, const nlohmann::json& body, Endpoint endpoint);
  // The response body, or the error object; waits for the end.
  nlohmann::json Wait();
  // Waits until the engine has sent something for it (so it holds a slot).
  void WaitStarted();

 private:
  std::shared_ptr<Job> job_;
  std::unique_ptr<ResponseBuilder> builder_;
  std::optional<ApiError> refused_;
};

inline nlohmann::json Complete(Service& s, const nlohmann::json& body) {
  return Pending(s, body, Endpoint::kCompletions).Wait();
}
inline nlohmann::json ChatComplete(Service& s, const nlohmann::json& body) {
  return Pending(s, body, Endpoint::kChatCompletions).Wait();
}

// choices[index] text (completions) or message content (chat).
std::string TextOf(const nlohmann::json& response, size_t index = 0);

}  // namespace anser::serve::testing
