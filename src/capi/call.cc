#include "capi/call.h"

namespace anser::capi {
namespace {

thread_local std::string t_last_error;
// Set instead when the message itself could not be stored (out of memory).
thread_local const char* t_fixed_error = nullptr;

}  // namespace

anser_status Call::Fail(anser_status code, const std::string& message) const noexcept {
  try {
    t_last_error = std::string(function_) + ": " + message;
    t_fixed_error = nullptr;
  } catch (...) {
    t_fixed_error = "out of memory while recording an error";
  }
  return code;
}

anser_status Call::Null(const char* argument) const {
  return Fail(ANSER_ERROR_INVALID_ARGUMENT, std::string(argument) + " is NULL");
}

anser_status Call::Check(const Status& status, anser_status code) const {
  return status.ok() ? ANSER_OK : Fail(code, status.message());
}

const char* LastError() { return t_fixed_error != nullptr ? t_fixed_error : t_last_error.c_str(); }

}  // namespace anser::capi
