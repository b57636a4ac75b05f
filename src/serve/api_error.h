// An error as the OpenAI API reports it: {"error": {"message", "type", "param", "code"}} with an
// HTTP status. Every failure the server answers goes through one of these.
#pragma once

#include <string>

namespace anser::serve {

struct ApiError {
  int status = 400;
  std::string type = "invalid_request_error";
  std::string message;
  std::string param;  // the request field at fault ("" = none)
  std::string code;   // "" = none

  static ApiError Invalid(std::string param, std::string message) {
    return {400, "invalid_request_error", std::move(message), std::move(param), ""};
  }
  static ApiError NotFound(std::string message) { return {404, "not_found_error", std::move(message), "", ""}; }
  static ApiError Server(std::string message) { return {500, "server_error", std::move(message), "", ""}; }
};

}  // namespace anser::serve
