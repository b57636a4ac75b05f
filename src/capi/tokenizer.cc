// C API: tokenizers — World (from a file, embedded in a GGUF file, or installed), bytes.
#include <algorithm>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "capi/call.h"
#include "capi/handles.h"

using anser::capi::Call;
using anser::capi::Guarded;

namespace {

anser_status Keep(const Call& call, anser::Result<std::unique_ptr<anser::Tokenizer>> made,
                  anser_tokenizer** tokenizer) {
  if (!made.ok()) return call.Fail(ANSER_ERROR_FILE, made.message());
  *tokenizer = new anser_tokenizer{std::move(made).value()};
  return ANSER_OK;
}

anser_status CheckId(const Call& call, int32_t id, int vocab_size) {
  if (id >= 0 && id < vocab_size) return ANSER_OK;
  return call.Fail(ANSER_ERROR_INVALID_ARGUMENT, "token id " + std::to_string(id) +
                                                     " is outside the vocabulary [0, " +
                                                     std::to_string(vocab_size) + ")");
}

}  // namespace

extern "C" {

anser_status anser_tokenizer_load_world(const char* vocab_path, anser_tokenizer** tokenizer) {
  return Guarded(__func__, [&](const Call& call) {
    if (tokenizer == nullptr) return call.Null("tokenizer");
    return Keep(call,
                vocab_path == nullptr ? anser::LoadInstalledWorldTokenizer()
                                      : anser::LoadWorldTokenizer(vocab_path),
                tokenizer);
  });
}

anser_status anser_tokenizer_new_bytes(anser_tokenizer** tokenizer) {
  return Guarded(__func__, [&](const Call& call) {
    if (tokenizer == nullptr) return call.Null("tokenizer");
    *tokenizer = new anser_tokenizer{anser::MakeByteTokenizer()};
    return ANSER_OK;
  });
}

anser_status anser_tokenizer_for_model(const anser_model* model, const char* vocab_path,
                                       anser_tokenizer** tokenizer) {
  return Guarded(__func__, [&](const Call& call) {
    if (model == nullptr) return call.Null("model");
    if (tokenizer == nullptr) return call.Null("tokenizer");
    const anser::Model& m = *model->model;
    auto made = anser::TokenizerForModel(m.source(), m.config().n_vocab,
                                         vocab_path == nullptr ? "" : vocab_path);
    if (made.ok() && made.value() == nullptr) {
      return call.Fail(ANSER_ERROR_UNSUPPORTED,
                       "model " + m.source() + " has a vocabulary of " +
                           std::to_string(m.config().n_vocab) +
                           " tokens, for which Anser has no tokenizer: run it from token ids");
    }
    return Keep(call, std::move(made), tokenizer);
  });
}

void anser_tokenizer_free(anser_tokenizer* tokenizer) { delete tokenizer; }

int32_t anser_tokenizer_vocab_size(const anser_tokenizer* tokenizer) {
  return tokenizer == nullptr ? 0 : tokenizer->tokenizer->vocab_size();
}

anser_status anser_tokenizer_encode(const anser_tokenizer* tokenizer, const char* text,
                                    size_t text_len, int32_t* ids, size_t capacity, size_t* n_ids) {
  return Guarded(__func__, [&](const Call& call) {
    if (tokenizer == nullptr) return call.Null("tokenizer");
    if (text == nullptr && text_len > 0) return call.Null("text");
    if (n_ids == nullptr) return call.Null("n_ids");
    const std::vector<int> encoded =
        tokenizer->tokenizer->Encode(std::string_view(text == nullptr ? "" : text, text_len));
    *n_ids = encoded.size();
    if (capacity < encoded.size() || (ids == nullptr && !encoded.empty())) {
      return call.Fail(ANSER_ERROR_BUFFER_TOO_SMALL,
                       "ids holds " + std::to_string(ids == nullptr ? 0 : capacity) +
                           " ids, the text has " + std::to_string(encoded.size()) +
                           " (never more than its bytes)");
    }
    std::copy(encoded.begin(), encoded.end(), ids);
    return ANSER_OK;
  });
}

anser_status anser_tokenizer_decode(const anser_tokenizer* tokenizer, const int32_t* ids,
                                    size_t n_ids, char* text, size_t capacity, size_t* text_len) {
  return Guarded(__func__, [&](const Call& call) {
    if (tokenizer == nullptr) return call.Null("tokenizer");
    if (ids == nullptr && n_ids > 0) return call.Null("ids");
    if (text_len == nullptr) return call.Null("text_len");
    auto decoded = tokenizer->tokenizer->Decode(std::span<const int>(ids, n_ids));
    if (!decoded.ok()) return call.Fail(ANSER_ERROR_INVALID_ARGUMENT, decoded.message());
    const std::string& bytes = decoded.value();
    *text_len = bytes.size();
    if (text == nullptr || capacity < bytes.size() + 1) {
      return call.Fail(ANSER_ERROR_BUFFER_TOO_SMALL,
                       "text holds " + std::to_string(text == nullptr ? 0 : capacity) +
                           " bytes, the decoded text needs " + std::to_string(bytes.size() + 1) +
                           " (with its terminating NUL)");
    }
    std::memcpy(text, bytes.data(), bytes.size());
    text[bytes.size()] = '\0';
    return ANSER_OK;
  });
}

anser_status anser_tokenizer_token_bytes(const anser_tokenizer* tokenizer, int32_t id,
                                         const char** bytes, size_t* len) {
  return Guarded(__func__, [&](const Call& call) {
    if (tokenizer == nullptr) return call.Null("tokenizer");
    if (bytes == nullptr) return call.Null("bytes");
    if (len == nullptr) return call.Null("len");
    if (anser_status s = CheckId(call, id, tokenizer->tokenizer->vocab_size()); s != ANSER_OK)
      return s;
    const std::string_view view = tokenizer->tokenizer->TokenBytes(id);
    *bytes = view.empty() ? "" : view.data();
    *len = view.size();
    return ANSER_OK;
  });
}

}  // extern "C"
