// C API: sessions and the forward pass (prefill, step, batched step). Every argument is checked
// here, so the C++ forward pass's own checks (which abort) are never reached from C.
#include <algorithm>
#include <cstring>
#include <span>
#include <string>

#include "capi/call.h"
#include "capi/handles.h"
#include "capi/settings.h"

using anser::capi::Call;
using anser::capi::Guarded;

namespace {

std::string Shape(const anser::ModelConfig& c) {
  return std::to_string(c.n_layer) + " layers of " + std::to_string(c.n_embd) + " channels (" +
         std::to_string(c.n_head) + " heads of " + std::to_string(c.head_size) + ")";
}

anser_status CheckState(const Call& call, const anser::ModelConfig& model, const anser_state* state,
                        const std::string& name) {
  if (state == nullptr) return call.Null(name.c_str());
  if (state->state.SameShape(model)) return ANSER_OK;
  return call.Fail(ANSER_ERROR_INVALID_ARGUMENT,
                   name + " was made for a model of " + Shape(state->config) +
                       ", but this session's model has " + Shape(model) +
                       ": make the state with anser_state_new from the session's model");
}

bool InVocabulary(int32_t token, int n_vocab) { return token >= 0 && token < n_vocab; }

anser_status BadToken(const Call& call, int32_t token, int n_vocab, const std::string& where) {
  return call.Fail(ANSER_ERROR_INVALID_ARGUMENT, "token " + std::to_string(token) + where +
                                                     " is outside the model's vocabulary [0, " +
                                                     std::to_string(n_vocab) + ")");
}

// Logits are optional (NULL: not wanted); when given they must hold `needed` floats.
anser_status CheckLogits(const Call& call, const float* logits, size_t capacity, size_t needed) {
  if (logits == nullptr || capacity >= needed) return ANSER_OK;
  return call.Fail(ANSER_ERROR_BUFFER_TOO_SMALL,
                   "logits holds " + std::to_string(capacity) + " floats, but this call writes " +
                       std::to_string(needed) + " (n_vocab per position)");
}

void CopyOut(std::span<const float> from, float* logits) {
  if (logits != nullptr) std::memcpy(logits, from.data(), from.size_bytes());
}

}  // namespace

extern "C" {

anser_status anser_session_new(const anser_model* model, anser_session** session) {
  return Guarded(__func__, [&](const Call& call) {
    if (model == nullptr) return call.Null("model");
    if (session == nullptr) return call.Null("session");
    *session = new anser_session(model->model, anser::capi::SessionThreads());
    return ANSER_OK;
  });
}

void anser_session_free(anser_session* session) { delete session; }

anser_status anser_session_prefill(anser_session* session, anser_state* state,
                                   const int32_t* tokens, size_t n_tokens, int32_t all_positions,
                                   float* logits, size_t capacity) {
  return Guarded(__func__, [&](const Call& call) {
    if (session == nullptr) return call.Null("session");
    const anser::ModelConfig& config = session->session.model().config();
    const size_t n_vocab = static_cast<size_t>(config.n_vocab);
    const size_t positions = n_tokens == 0 ? 0 : all_positions != 0 ? n_tokens : 1;
    if (anser_status s = CheckState(call, config, state, "state"); s != ANSER_OK) return s;
    if (n_tokens > 0 && tokens == nullptr) return call.Null("tokens");
    for (size_t i = 0; i < n_tokens; ++i) {
      if (!InVocabulary(tokens[i], config.n_vocab)) {
        return BadToken(call, tokens[i], config.n_vocab, " at position " + std::to_string(i));
      }
    }
    if (anser_status s = CheckLogits(call, logits, capacity, positions * n_vocab); s != ANSER_OK)
      return s;
    if (n_tokens == 0) return ANSER_OK;
    session->session.Prefill(state->state, std::span<const int>(tokens, n_tokens),
                             all_positions != 0, &session->logits);
    CopyOut(session->logits, logits);
    return ANSER_OK;
  });
}

anser_status anser_session_step(anser_session* session, anser_state* state, int32_t token,
                                float* logits, size_t capacity) {
  return Guarded(__func__, [&](const Call& call) {
    if (session == nullptr) return call.Null("session");
    const anser::ModelConfig& config = session->session.model().config();
    if (anser_status s = CheckState(call, config, state, "state"); s != ANSER_OK) return s;
    if (!InVocabulary(token, config.n_vocab)) return BadToken(call, token, config.n_vocab, "");
    if (anser_status s = CheckLogits(call, logits, capacity, static_cast<size_t>(config.n_vocab));
        s != ANSER_OK) {
      return s;
    }
    CopyOut(session->session.Step(state->state, token), logits);
    return ANSER_OK;
  });
}

anser_status anser_session_step_batch(anser_session* session, anser_state* const* states,
                                      const int32_t* tokens, size_t n, float* logits,
                                      size_t capacity) {
  return Guarded(__func__, [&](const Call& call) {
    if (session == nullptr) return call.Null("session");
    if (n == 0) return ANSER_OK;
    if (states == nullptr) return call.Null("states");
    const anser::ModelConfig& config = session->session.model().config();
    for (size_t b = 0; b < n; ++b) {
      const std::string name = "states[" + std::to_string(b) + "]";
      if (anser_status s = CheckState(call, config, states[b], name); s != ANSER_OK) return s;
      if (std::find(states, states + b, states[b]) != states + b) {
        return call.Fail(ANSER_ERROR_INVALID_ARGUMENT,
                         name + " appears twice in the batch: each sequence needs its own state");
      }
    }
    if (tokens == nullptr) return call.Null("tokens");
    for (size_t b = 0; b < n; ++b) {
      if (!InVocabulary(tokens[b], config.n_vocab)) {
        return BadToken(call, tokens[b], config.n_vocab, " for states[" + std::to_string(b) + "]");
      }
    }
    if (anser_status s =
            CheckLogits(call, logits, capacity, n * static_cast<size_t>(config.n_vocab));
        s != ANSER_OK) {
      return s;
    }
    session->batch.clear();
    for (size_t b = 0; b < n; ++b) session->batch.push_back(&states[b]->state);
    session->session.StepBatch(session->batch, std::span<const int>(tokens, n), &session->logits);
    CopyOut(session->logits, logits);
    return ANSER_OK;
  });
}

}  // extern "C"
