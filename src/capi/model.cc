// C API: loading a model and reading its configuration.
#include <filesystem>
#include <system_error>

#include "capi/call.h"
#include "capi/handles.h"
#include "capi/settings.h"
#include "capi/struct_size.h"

using anser::capi::Call;
using anser::capi::Guarded;

namespace {

// Every field of anser_model_config is part of API version 1.
constexpr size_t kConfigFirstSize = sizeof(anser_model_config);

}  // namespace

extern "C" {

anser_status anser_model_load(const char* path, anser_model** model) {
  return Guarded(__func__, [&](const Call& call) {
    if (path == nullptr) return call.Null("path");
    if (model == nullptr) return call.Null("model");
    std::error_code error;
    if (!std::filesystem::exists(path, error)) {
      return call.Fail(ANSER_ERROR_FILE,
                       std::string("model '") + path +
                           "' not found: pass an RWKV-7 .pth file, a Hugging "
                           "Face folder (config.json + *.safetensors) or a GGUF file");
    }
    auto loaded = anser::Model::Load(path);
    if (!loaded.ok()) return call.Fail(ANSER_ERROR_FILE, loaded.message());
    *model = new anser_model{std::move(loaded).value()};
    anser::capi::NoteModelLoaded();
    return ANSER_OK;
  });
}

void anser_model_free(anser_model* model) { delete model; }

anser_status anser_model_get_config(const anser_model* model, anser_model_config* config) {
  return Guarded(__func__, [&](const Call& call) {
    if (model == nullptr) return call.Null("model");
    if (config == nullptr) return call.Null("config");
    if (anser_status s =
            anser::capi::CheckStructSize(call, *config, kConfigFirstSize, "anser_model_config");
        s != ANSER_OK) {
      return s;
    }
    const anser::ModelConfig& c = model->model->config();
    anser_model_config full{};
    full.n_layer = c.n_layer;
    full.n_embd = c.n_embd;
    full.n_head = c.n_head;
    full.head_size = c.head_size;
    full.n_ffn = c.n_ffn;
    full.n_vocab = c.n_vocab;
    full.lora_rank_w = c.lora_ranks.w;
    full.lora_rank_a = c.lora_ranks.a;
    full.lora_rank_v = c.lora_ranks.v;
    full.lora_rank_g = c.lora_ranks.g;
    full.n_params = model->model->params();
    anser::capi::WriteSized(full, config);
    return ANSER_OK;
  });
}

}  // extern "C"
