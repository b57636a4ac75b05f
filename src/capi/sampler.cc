// C API: sampling parameters, seeded samplers and the one-call draw.
#include <span>
#include <string>
#include <vector>

#include "capi/call.h"
#include "capi/handles.h"
#include "capi/struct_size.h"

using anser::capi::Call;
using anser::capi::Guarded;

namespace {

// Every field of anser_sampler_params is part of API version 1.
constexpr size_t kParamsFirstSize = sizeof(anser_sampler_params);

anser_sampler_params DefaultParams() {
  const anser::SamplerOptions o;
  anser_sampler_params p{};
  p.struct_size = sizeof(anser_sampler_params);
  p.temperature = o.temperature;
  p.top_p = o.top_p;
  p.top_k = o.top_k;
  p.min_p = o.min_p;
  p.presence_penalty = o.presence_penalty;
  p.frequency_penalty = o.frequency_penalty;
  p.penalty_decay = o.penalty_decay;
  p.seed = o.seed;
  return p;
}

// The options `params` gives (NULL: the defaults).
anser_status ReadOptions(const Call& call, const anser_sampler_params* params,
                         anser::SamplerOptions* options) {
  const anser_sampler_params defaults = DefaultParams();
  if (params != nullptr) {
    if (anser_status s =
            anser::capi::CheckStructSize(call, *params, kParamsFirstSize, "anser_sampler_params");
        s != ANSER_OK) {
      return s;
    }
  }
  const anser_sampler_params p =
      params == nullptr ? defaults : anser::capi::ReadSized(*params, defaults);
  options->temperature = p.temperature;
  options->top_p = p.top_p;
  options->top_k = p.top_k;
  options->min_p = p.min_p;
  options->presence_penalty = p.presence_penalty;
  options->frequency_penalty = p.frequency_penalty;
  options->penalty_decay = p.penalty_decay;
  options->seed = p.seed;
  return ANSER_OK;
}

anser_status CheckLogitCount(const Call& call, const float* logits, size_t n_logits, int n_vocab) {
  if (logits == nullptr) return call.Null("logits");
  if (n_logits == static_cast<size_t>(n_vocab)) return ANSER_OK;
  return call.Fail(ANSER_ERROR_INVALID_ARGUMENT, "n_logits is " + std::to_string(n_logits) +
                                                     ", but the sampler was made for " +
                                                     std::to_string(n_vocab) + " tokens");
}

}  // namespace

extern "C" {

anser_status anser_sampler_params_default(anser_sampler_params* params) {
  return Guarded(__func__, [&](const Call& call) {
    if (params == nullptr) return call.Null("params");
    if (anser_status s =
            anser::capi::CheckStructSize(call, *params, kParamsFirstSize, "anser_sampler_params");
        s != ANSER_OK) {
      return s;
    }
    anser::capi::WriteSized(DefaultParams(), params);
    return ANSER_OK;
  });
}

anser_status anser_sampler_new(int32_t n_vocab, const anser_sampler_params* params,
                               anser_sampler** sampler) {
  return Guarded(__func__, [&](const Call& call) {
    if (sampler == nullptr) return call.Null("sampler");
    if (n_vocab <= 0) {
      return call.Fail(ANSER_ERROR_INVALID_ARGUMENT, "n_vocab is " + std::to_string(n_vocab) +
                                                         ": pass the model's vocabulary size");
    }
    anser::SamplerOptions options;
    if (anser_status s = ReadOptions(call, params, &options); s != ANSER_OK) return s;
    *sampler = new anser_sampler(n_vocab, options);
    return ANSER_OK;
  });
}

void anser_sampler_free(anser_sampler* sampler) { delete sampler; }

anser_status anser_sampler_sample(anser_sampler* sampler, float* logits, size_t n_logits,
                                  int32_t* token) {
  return Guarded(__func__, [&](const Call& call) {
    if (sampler == nullptr) return call.Null("sampler");
    if (token == nullptr) return call.Null("token");
    if (anser_status s = CheckLogitCount(call, logits, n_logits, sampler->n_vocab); s != ANSER_OK) {
      return s;
    }
    *token = sampler->sampler.Sample(std::span<float>(logits, n_logits));
    return ANSER_OK;
  });
}

anser_status anser_sampler_accept(anser_sampler* sampler, int32_t token) {
  return Guarded(__func__, [&](const Call& call) {
    if (sampler == nullptr) return call.Null("sampler");
    if (token < 0 || token >= sampler->n_vocab) {
      return call.Fail(ANSER_ERROR_INVALID_ARGUMENT, "token " + std::to_string(token) +
                                                         " is outside the vocabulary [0, " +
                                                         std::to_string(sampler->n_vocab) + ")");
    }
    sampler->sampler.Accept(token);
    return ANSER_OK;
  });
}

anser_status anser_sampler_reset(anser_sampler* sampler) {
  return Guarded(__func__, [&](const Call& call) {
    if (sampler == nullptr) return call.Null("sampler");
    sampler->sampler.ResetPenalties();
    return ANSER_OK;
  });
}

anser_status anser_sample_logits(const float* logits, size_t n_logits,
                                 const anser_sampler_params* params, int32_t* token) {
  return Guarded(__func__, [&](const Call& call) {
    if (logits == nullptr) return call.Null("logits");
    if (token == nullptr) return call.Null("token");
    if (n_logits == 0 || n_logits > static_cast<size_t>(INT32_MAX)) {
      return call.Fail(ANSER_ERROR_INVALID_ARGUMENT, "n_logits is " + std::to_string(n_logits) +
                                                         ": pass the model's vocabulary size");
    }
    anser::SamplerOptions options;
    if (anser_status s = ReadOptions(call, params, &options); s != ANSER_OK) return s;
    std::vector<float> scratch(logits, logits + n_logits);
    anser::Sampler sampler(static_cast<int>(n_logits), options);
    *token = sampler.Sample(scratch);
    return ANSER_OK;
  });
}

}  // extern "C"
