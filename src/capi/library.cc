// The C API's library-wide functions: versions, errors and the process-wide settings.
#include <algorithm>
#include <atomic>
#include <string>
#include <string_view>
#include <vector>

#include "anser/anser.h"
#include "capi/call.h"
#include "capi/settings.h"
#include "kernels/kernels.h"

namespace anser::capi {
namespace {

std::atomic<bool> g_model_loaded{false};
std::atomic<int> g_threads{0};

}  // namespace

void NoteModelLoaded() { g_model_loaded.store(true); }

int SessionThreads() { return g_threads.load(); }

}  // namespace anser::capi

using anser::capi::Call;
using anser::capi::Guarded;

extern "C" {

int32_t anser_api_version(void) { return ANSER_API_VERSION; }

const char* anser_version(void) { return ANSER_VERSION; }

const char* anser_last_error(void) { return anser::capi::LastError(); }

const char* anser_status_name(anser_status status) {
  switch (status) {
    case ANSER_OK:
      return "ANSER_OK";
    case ANSER_ERROR_INVALID_ARGUMENT:
      return "ANSER_ERROR_INVALID_ARGUMENT";
    case ANSER_ERROR_FILE:
      return "ANSER_ERROR_FILE";
    case ANSER_ERROR_BUFFER_TOO_SMALL:
      return "ANSER_ERROR_BUFFER_TOO_SMALL";
    case ANSER_ERROR_TOO_LATE:
      return "ANSER_ERROR_TOO_LATE";
    case ANSER_ERROR_UNSUPPORTED:
      return "ANSER_ERROR_UNSUPPORTED";
    case ANSER_ERROR_OUT_OF_MEMORY:
      return "ANSER_ERROR_OUT_OF_MEMORY";
    case ANSER_ERROR_INTERNAL:
      return "ANSER_ERROR_INTERNAL";
  }
  return "ANSER_STATUS_UNKNOWN";
}

anser_status anser_set_threads(int32_t threads) {
  return Guarded(__func__, [&](const Call& call) {
    if (threads < 0) {
      return call.Fail(ANSER_ERROR_INVALID_ARGUMENT,
                       "threads is " + std::to_string(threads) + ": pass 0 (one per core) or more");
    }
    if (anser::capi::g_model_loaded.load()) {
      return call.Fail(ANSER_ERROR_TOO_LATE,
                       "a model is already loaded: set the thread count before the first load");
    }
    anser::capi::g_threads.store(threads);
    anser::SetKernelThreads(threads);
    return ANSER_OK;
  });
}

int32_t anser_threads(void) { return anser::KernelThreads(); }

anser_status anser_set_kernels(const char* name) {
  return Guarded(__func__, [&](const Call& call) {
    if (name == nullptr) return call.Null("name");
    if (anser::capi::g_model_loaded.load()) {
      return call.Fail(ANSER_ERROR_TOO_LATE,
                       "a model is already loaded: choose the kernel table before the first load");
    }
    const anser::Status status = anser::SetKernels(name);
    if (status.ok()) return ANSER_OK;
    const std::vector<const anser::CpuKernels*> runnable = anser::AllKernels();
    const bool runs =
        std::any_of(runnable.begin(), runnable.end(),
                    [&](const anser::CpuKernels* k) { return k->name == std::string_view(name); });
    return call.Fail(runs ? ANSER_ERROR_TOO_LATE : ANSER_ERROR_UNSUPPORTED, status.message());
  });
}

const char* anser_kernels(void) { return anser::ChosenKernels().name; }

}  // extern "C"
