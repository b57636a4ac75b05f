// C API: states — new, copy, reset, the state file, and the raw buffers.
#include <string>

#include "capi/call.h"
#include "capi/handles.h"

using anser::capi::Call;
using anser::capi::Guarded;

extern "C" {

anser_status anser_state_new(const anser_model* model, anser_state** state) {
  return Guarded(__func__, [&](const Call& call) {
    if (model == nullptr) return call.Null("model");
    if (state == nullptr) return call.Null("state");
    const anser::ModelConfig& config = model->model->config();
    *state = new anser_state{config, anser::State(config)};
    return ANSER_OK;
  });
}

anser_status anser_state_copy(const anser_state* source, anser_state** state) {
  return Guarded(__func__, [&](const Call& call) {
    if (source == nullptr) return call.Null("source");
    if (state == nullptr) return call.Null("state");
    *state = new anser_state(*source);
    return ANSER_OK;
  });
}

void anser_state_free(anser_state* state) { delete state; }

anser_status anser_state_reset(anser_state* state) {
  return Guarded(__func__, [&](const Call& call) {
    if (state == nullptr) return call.Null("state");
    state->state.Reset();
    return ANSER_OK;
  });
}

anser_status anser_state_save(const anser_state* state, const char* path) {
  return Guarded(__func__, [&](const Call& call) {
    if (state == nullptr) return call.Null("state");
    if (path == nullptr) return call.Null("path");
    return call.Check(state->state.Save(path), ANSER_ERROR_FILE);
  });
}

anser_status anser_state_load(const anser_model* model, const char* path, anser_state** state) {
  return Guarded(__func__, [&](const Call& call) {
    if (model == nullptr) return call.Null("model");
    if (path == nullptr) return call.Null("path");
    if (state == nullptr) return call.Null("state");
    const anser::ModelConfig& config = model->model->config();
    auto loaded = anser::State::Load(path, config);
    if (!loaded.ok()) return call.Fail(ANSER_ERROR_FILE, loaded.message());
    *state = new anser_state{config, std::move(loaded).value()};
    return ANSER_OK;
  });
}

anser_status anser_state_data(anser_state* state, anser_state_part part, float** data,
                              size_t* count) {
  return Guarded(__func__, [&](const Call& call) {
    if (state == nullptr) return call.Null("state");
    if (data == nullptr) return call.Null("data");
    if (count == nullptr) return call.Null("count");
    const anser::ModelConfig& c = state->config;
    const size_t layers = static_cast<size_t>(c.n_layer);
    switch (part) {
      case ANSER_STATE_ATT_SHIFT:
        *data = state->state.att_shift(0);
        *count = layers * static_cast<size_t>(c.n_embd);
        return ANSER_OK;
      case ANSER_STATE_WKV:
        *data = state->state.wkv(0);
        *count = layers * static_cast<size_t>(c.n_head) * static_cast<size_t>(c.head_size) *
                 static_cast<size_t>(c.head_size);
        return ANSER_OK;
      case ANSER_STATE_FFN_SHIFT:
        *data = state->state.ffn_shift(0);
        *count = layers * static_cast<size_t>(c.n_embd);
        return ANSER_OK;
    }
    return call.Fail(ANSER_ERROR_INVALID_ARGUMENT,
                     "part " + std::to_string(static_cast<int>(part)) +
                         " is not a state part: pass ANSER_STATE_ATT_SHIFT, ANSER_STATE_WKV or "
                         "ANSER_STATE_FFN_SHIFT");
  });
}

}  // extern "C"
