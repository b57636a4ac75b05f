// C API: UTF-8-safe streaming of generated text with stop strings (the CLI's TextStream).
#include <string>
#include <string_view>
#include <vector>

#include "capi/call.h"
#include "capi/handles.h"

using anser::capi::Call;
using anser::capi::Guarded;

namespace {

// Points the caller at what the stream released; it stays in the handle until the next call.
anser_status Release(anser_text_stream* stream, std::string released, const char** text,
                     size_t* text_len) {
  stream->text = std::move(released);
  *text = stream->text.c_str();
  *text_len = stream->text.size();
  return ANSER_OK;
}

}  // namespace

extern "C" {

anser_status anser_text_stream_new(const char* const* stop_strings, size_t n_stops,
                                   anser_text_stream** stream) {
  return Guarded(__func__, [&](const Call& call) {
    if (stream == nullptr) return call.Null("stream");
    if (stop_strings == nullptr && n_stops > 0) return call.Null("stop_strings");
    std::vector<std::string> stops;
    for (size_t i = 0; i < n_stops; ++i) {
      if (stop_strings[i] == nullptr) {
        return call.Null(("stop_strings[" + std::to_string(i) + "]").c_str());
      }
      stops.emplace_back(stop_strings[i]);
    }
    *stream = new anser_text_stream{anser::TextStream(std::move(stops)), {}};
    return ANSER_OK;
  });
}

void anser_text_stream_free(anser_text_stream* stream) { delete stream; }

anser_status anser_text_stream_push(anser_text_stream* stream, const char* bytes, size_t len,
                                    const char** text, size_t* text_len) {
  return Guarded(__func__, [&](const Call& call) {
    if (stream == nullptr) return call.Null("stream");
    if (bytes == nullptr && len > 0) return call.Null("bytes");
    if (text == nullptr) return call.Null("text");
    if (text_len == nullptr) return call.Null("text_len");
    return Release(stream,
                   stream->stream.Push(std::string_view(bytes == nullptr ? "" : bytes, len)), text,
                   text_len);
  });
}

anser_status anser_text_stream_flush(anser_text_stream* stream, const char** text,
                                     size_t* text_len) {
  return Guarded(__func__, [&](const Call& call) {
    if (stream == nullptr) return call.Null("stream");
    if (text == nullptr) return call.Null("text");
    if (text_len == nullptr) return call.Null("text_len");
    return Release(stream, stream->stream.Flush(), text, text_len);
  });
}

int32_t anser_text_stream_stopped(const anser_text_stream* stream) {
  return stream != nullptr && stream->stream.stopped() ? 1 : 0;
}

}  // extern "C"
