#include <algorithm>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "anser/sampler.h"

namespace anser {
namespace {

// Number of bytes at the end of `text` that start a UTF-8 character which later bytes can
// still complete validly. 0 when the text ends on a character boundary, and also when the
// tail can never become valid (bad lead byte, overlong or surrogate start, stray continuation
// bytes): holding those back would stall the output forever.
size_t IncompleteUtf8Tail(std::string_view text) {
  const size_t n = text.size();
  for (size_t back = 1; back <= 3 && back <= n; ++back) {
    const auto lead = static_cast<unsigned char>(text[n - back]);
    if ((lead & 0xC0) == 0x80) continue;       // a continuation byte: the lead is further back
    if (lead < 0xC2 || lead > 0xF4) return 0;  // ASCII, or a byte no valid character starts with
    const size_t length = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : 2;
    if (back >= length) return 0;  // complete, or more continuation bytes than the lead allows
    if (back >= 2) {
      // The only leads whose second byte is narrower than 80..BF (RFC 3629, section 4).
      const auto second = static_cast<unsigned char>(text[n - back + 1]);
      if ((lead == 0xE0 && second < 0xA0) || (lead == 0xED && second > 0x9F) ||
          (lead == 0xF0 && second < 0x90) || (lead == 0xF4 && second > 0x8F)) {
        return 0;
      }
    }
    return back;
  }
  return 0;
}

// Length of the longest suffix of `text` that is a proper prefix of some stop string: those
// bytes may yet turn into a stop string and must not be printed.
size_t StopPrefixTail(std::string_view text, const std::vector<std::string>& stops) {
  size_t hold = 0;
  for (const std::string& stop : stops) {
    for (size_t length = std::min(stop.size() - 1, text.size()); length > hold; --length) {
      if (text.ends_with(std::string_view(stop).substr(0, length))) {
        hold = length;
        break;
      }
    }
  }
  return hold;
}

}  // namespace

TextStream::TextStream(std::vector<std::string> stop_strings) : stops_(std::move(stop_strings)) {
  // An empty stop string would match before any text; treating it as absent is the only
  // reading that lets generation produce output.
  std::erase_if(stops_, [](const std::string& stop) { return stop.empty(); });
}

std::string TextStream::Push(std::string_view bytes) {
  if (stopped_) return {};
  pending_.append(bytes);
  // Released text never holds the start of a stop string (it would have been held back), so
  // searching the pending bytes alone finds every stop, including ones spanning pushes.
  size_t stop_at = std::string::npos;
  for (const std::string& stop : stops_) stop_at = std::min(stop_at, pending_.find(stop));
  if (stop_at != std::string::npos) {
    std::string out = pending_.substr(0, stop_at);
    pending_.clear();
    stopped_ = true;
    return out;
  }
  const size_t hold = std::max(StopPrefixTail(pending_, stops_), IncompleteUtf8Tail(pending_));
  const size_t release = pending_.size() - hold;
  std::string out = pending_.substr(0, release);
  pending_.erase(0, release);
  return out;
}

std::string TextStream::Flush() {
  std::string out = std::move(pending_);
  pending_.clear();
  return out;
}

}  // namespace anser
