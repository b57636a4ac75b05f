// How every C API function reports: a status code plus a thread-local message naming the
// function, and no exception ever crossing into C.
#pragma once

#include <exception>
#include <new>
#include <string>

#include "anser/anser.h"
#include "anser/status.h"

namespace anser::capi {

// One C API call: the function's name, for the messages of its failures.
class Call {
 public:
  explicit Call(const char* function) : function_(function) {}

  // Records "FUNCTION: MESSAGE" as this thread's last error and returns `code`.
  anser_status Fail(anser_status code, const std::string& message) const noexcept;
  // ANSER_ERROR_INVALID_ARGUMENT for a NULL pointer argument.
  anser_status Null(const char* argument) const;
  // ANSER_OK for an ok status, else `code` with the status's message.
  anser_status Check(const Status& status, anser_status code) const;

 private:
  const char* function_;
};

// Runs body(call) and returns its status; an exception becomes ANSER_ERROR_OUT_OF_MEMORY or
// ANSER_ERROR_INTERNAL with a message, never a crash.
template <class Body>
anser_status Guarded(const char* function, const Body& body) noexcept {
  const Call call(function);
  try {
    return body(call);
  } catch (const std::bad_alloc&) {
    return call.Fail(ANSER_ERROR_OUT_OF_MEMORY, "out of memory");
  } catch (const std::exception& e) {
    return call.Fail(ANSER_ERROR_INTERNAL, std::string("unexpected error: ") + e.what());
  } catch (...) {
    return call.Fail(ANSER_ERROR_INTERNAL, "unexpected error");
  }
}

// This thread's last error message ("" if no call has failed).
const char* LastError();

}  // namespace anser::capi
