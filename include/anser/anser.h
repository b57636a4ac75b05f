/* Anser's C API: a stable C99 interface to the RWKV-7 engine (also valid C++).
 *
 * Conventions
 * - Every fallible function returns an anser_status. On failure it leaves its outputs unchanged
 *   (except where documented), and anser_last_error() returns a message that names the function,
 *   the object and what to do. Functions never abort on bad input and never print.
 * - Objects are opaque handles made by anser_X_new/_load/_copy and released by anser_X_free
 *   (which accepts NULL). Passing a freed handle is undefined.
 * - Structs passed in or out start with `struct_size`, which the caller sets to
 *   sizeof(the struct) before any call that takes it: fields added in later versions are then
 *   defaulted (inputs) or left untouched (outputs) for callers built against older headers.
 * - Buffers the caller passes (logits, ids, text) belong to the caller; the library writes at
 *   most the stated capacity and reports ANSER_ERROR_BUFFER_TOO_SMALL, with the size needed,
 *   when it does not fit. Pointers the library returns point into the object that returned them
 *   and stay valid as documented at each function.
 * - Token ids are int32_t in [0, n_vocab); logits are float32, n_vocab per position.
 *
 * Threads
 * - A model and a tokenizer are immutable once made: share them between threads freely.
 * - A session, a state, a sampler and a text stream are used by one thread at a time. Run one
 *   session per thread; a state may move between sessions (of the same model) but must not be
 *   used by two calls at once.
 * - anser_last_error() is per thread. anser_set_threads and anser_set_kernels are process-wide
 *   and take effect only before the first model is loaded.
 * - Sessions on several threads run in parallel; the kernel thread pool serves one of them at a
 *   time and the others compute on their own thread.
 */
#ifndef ANSER_ANSER_H_
#define ANSER_ANSER_H_

#include <stddef.h>
#include <stdint.h>

/* The version of this interface. It grows by one whenever a function, an enum value or a
 * struct field is added; nothing is ever removed or changed within one SONAME (libanser.so.0).
 * Compare with anser_api_version() to learn what the loaded library offers. */
#define ANSER_API_VERSION 1

#if defined(__GNUC__)
#define ANSER_API __attribute__((visibility("default")))
#else
#define ANSER_API
#endif

#ifdef __cplusplus
extern "C" {
#endif

typedef enum anser_status {
  ANSER_OK = 0,
  ANSER_ERROR_INVALID_ARGUMENT = 1, /* NULL handle, value out of range, wrong state shape */
  ANSER_ERROR_FILE = 2,             /* a file is missing, unreadable, unwritable or malformed */
  ANSER_ERROR_BUFFER_TOO_SMALL = 3, /* the output did not fit; the size needed is reported */
  ANSER_ERROR_TOO_LATE = 4,         /* a process-wide setting after the first model load */
  ANSER_ERROR_UNSUPPORTED = 5,      /* e.g. a tokenizer for a vocabulary Anser has none of */
  ANSER_ERROR_OUT_OF_MEMORY = 6,
  ANSER_ERROR_INTERNAL = 7 /* a bug in Anser: please report it with the message */
} anser_status;

/* ---- Library ---------------------------------------------------------------------------- */

/* ANSER_API_VERSION of the loaded library. */
ANSER_API int32_t anser_api_version(void);
/* The library's release, e.g. "0.1.0". Static storage. */
ANSER_API const char* anser_version(void);
/* The message of the last call on this thread that failed ("" if none has). Successful calls
 * leave it unchanged. Valid until the next failing call on this thread. */
ANSER_API const char* anser_last_error(void);
/* A constant name for a status, e.g. "ANSER_ERROR_FILE". Static storage. */
ANSER_API const char* anser_status_name(anser_status status);

/* ---- Process-wide settings (before the first model is loaded) ---------------------------- */

/* Threads the kernels split each product over, the calling thread included; 0 = one per
 * hardware thread (the default). ANSER_ERROR_TOO_LATE once a model has been loaded. */
ANSER_API anser_status anser_set_threads(int32_t threads);
/* The thread count in effect (resolved: never 0). */
ANSER_API int32_t anser_threads(void);
/* Chooses the kernel table by name: "ref" (scalar reference), "avx2", "avxvnni" (those this CPU
 * runs). Without a call, the best this CPU runs (or $ANSER_KERNELS). ANSER_ERROR_TOO_LATE once a
 * model has been loaded, ANSER_ERROR_UNSUPPORTED for a table this CPU cannot run. */
ANSER_API anser_status anser_set_kernels(const char* name);
/* The name of the kernel table models will use (or use). Static storage. */
ANSER_API const char* anser_kernels(void);

/* ---- Models ----------------------------------------------------------------------------- */

typedef struct anser_model anser_model;

typedef struct anser_model_config {
  size_t struct_size; /* set by the caller: sizeof(anser_model_config) */
  int32_t n_layer;
  int32_t n_embd;
  int32_t n_head;
  int32_t head_size; /* n_embd = n_head * head_size */
  int32_t n_ffn;
  int32_t n_vocab;
  int32_t lora_rank_w; /* ranks of the decay, in-context learning rate, value and gate LoRAs */
  int32_t lora_rank_a;
  int32_t lora_rank_v;
  int32_t lora_rank_g;
  int64_t n_params; /* counted from the loaded tensors */
} anser_model_config;

/* Loads an RWKV-7 (x070) model: an official .pth file, a Hugging Face folder (config.json +
 * *.safetensors) or a GGUF file of llama.cpp's rwkv7 architecture. Files are mapped, not
 * copied. *model is set on success and released with anser_model_free. */
ANSER_API anser_status anser_model_load(const char* path, anser_model** model);
/* Releases the caller's reference; sessions made from the model keep the weights alive. */
ANSER_API void anser_model_free(anser_model* model);
/* Fills the fields of *config that config->struct_size covers. */
ANSER_API anser_status anser_model_get_config(const anser_model* model, anser_model_config* config);

/* ---- States: one sequence's recurrence ---------------------------------------------------- */

typedef struct anser_state anser_state;

/* The three float32 buffers of a state, each contiguous and zero in a new state:
 *   ANSER_STATE_ATT_SHIFT  [n_layer][n_embd]                      time-mix shift (last input)
 *   ANSER_STATE_WKV        [n_layer][n_head][head_size][head_size] WKV matrices: per head, row =
 *                          value index, column = key index (the official S, with y = S·r)
 *   ANSER_STATE_FFN_SHIFT  [n_layer][n_embd]                      channel-mix shift
 * The official `rwkv` package's state list is, per layer i, [att_shift[i], wkv[i], ffn_shift[i]].
 */
typedef enum anser_state_part {
  ANSER_STATE_ATT_SHIFT = 0,
  ANSER_STATE_WKV = 1,
  ANSER_STATE_FFN_SHIFT = 2
} anser_state_part;

/* A zero state for `model`. */
ANSER_API anser_status anser_state_new(const anser_model* model, anser_state** state);
/* A new state equal to `source`. */
ANSER_API anser_status anser_state_copy(const anser_state* source, anser_state** state);
ANSER_API void anser_state_free(anser_state* state);
/* Back to the zero state. */
ANSER_API anser_status anser_state_reset(anser_state* state);
/* Writes the state file (a torch.load-able dict {wkv, att_shift, ffn_shift} of float32 tensors,
 * the format of `anser generate --save-state`), replacing `path` atomically. */
ANSER_API anser_status anser_state_save(const anser_state* state, const char* path);
/* Reads a state file written for a model of the same shape as `model`. */
ANSER_API anser_status anser_state_load(const anser_model* model, const char* path,
                                        anser_state** state);
/* The buffer of one part: *data points into the state (valid until it is freed; writes change
 * the state) and *count is its number of floats. */
ANSER_API anser_status anser_state_data(anser_state* state, anser_state_part part, float** data,
                                        size_t* count);

/* ---- Sessions: the forward pass ----------------------------------------------------------- */

typedef struct anser_session anser_session;

/* Scratch buffers for running `model`; one per thread. */
ANSER_API anser_status anser_session_new(const anser_model* model, anser_session** session);
ANSER_API void anser_session_free(anser_session* session);
/* Runs n_tokens tokens through the model, advancing `state`. Writes the logits of the last
 * position (n_vocab floats), or of every position when all_positions is nonzero
 * ([n_tokens][n_vocab]), into `logits` of `capacity` floats; `logits` may be NULL (capacity 0)
 * when they are not wanted. n_tokens = 0 changes nothing. On ANSER_ERROR_BUFFER_TOO_SMALL the
 * state is unchanged. */
ANSER_API anser_status anser_session_prefill(anser_session* session, anser_state* state,
                                             const int32_t* tokens, size_t n_tokens,
                                             int32_t all_positions, float* logits, size_t capacity);
/* One token through the recurrent path: the same result as a prefill of that one token. */
ANSER_API anser_status anser_session_step(anser_session* session, anser_state* state, int32_t token,
                                          float* logits, size_t capacity);
/* Advances n distinct states by one token each (states[b] takes tokens[b]) in one batched pass;
 * writes the logits [n][n_vocab]. Equal to anser_session_step on each state in turn. */
ANSER_API anser_status anser_session_step_batch(anser_session* session, anser_state* const* states,
                                                const int32_t* tokens, size_t n, float* logits,
                                                size_t capacity);

/* ---- Tokenizers --------------------------------------------------------------------------- */

typedef struct anser_tokenizer anser_tokenizer;

/* The RWKV World tokenizer from a vocabulary file (rwkv_vocab_v20230424.txt). NULL: the copy
 * installed with Anser (share/anser/ beside the lib/ folder holding the library). */
ANSER_API anser_status anser_tokenizer_load_world(const char* vocab_path,
                                                  anser_tokenizer** tokenizer);
/* The byte-level tokenizer of 256-token models (token = byte). */
ANSER_API anser_status anser_tokenizer_new_bytes(anser_tokenizer** tokenizer);
/* The tokenizer `model` needs, as the `anser` command chooses it: bytes for 256 tokens; for the
 * 65536-token World vocabulary `vocab_path` if not NULL, else the file beside the model,
 * $ANSER_VOCAB, a GGUF file's embedded vocabulary, the installed copy. ANSER_ERROR_UNSUPPORTED
 * for other vocabulary sizes (such models run from token ids). */
ANSER_API anser_status anser_tokenizer_for_model(const anser_model* model, const char* vocab_path,
                                                 anser_tokenizer** tokenizer);
ANSER_API void anser_tokenizer_free(anser_tokenizer* tokenizer);
/* Largest id + 1. */
ANSER_API int32_t anser_tokenizer_vocab_size(const anser_tokenizer* tokenizer);
/* Encodes text_len bytes (any bytes, not only valid UTF-8; at most text_len ids result) into
 * `ids` of `capacity`; *n_ids = the number of ids (also on ANSER_ERROR_BUFFER_TOO_SMALL). */
ANSER_API anser_status anser_tokenizer_encode(const anser_tokenizer* tokenizer, const char* text,
                                              size_t text_len, int32_t* ids, size_t capacity,
                                              size_t* n_ids);
/* The bytes of n_ids tokens concatenated, then a NUL, into `text` of `capacity` bytes;
 * *text_len = the byte count without the NUL (also on ANSER_ERROR_BUFFER_TOO_SMALL, which is
 * returned when capacity < *text_len + 1). Token 0 decodes to nothing. */
ANSER_API anser_status anser_tokenizer_decode(const anser_tokenizer* tokenizer, const int32_t* ids,
                                              size_t n_ids, char* text, size_t capacity,
                                              size_t* text_len);
/* The bytes of one token: *bytes points into the tokenizer (valid until it is freed), not
 * NUL-terminated. */
ANSER_API anser_status anser_tokenizer_token_bytes(const anser_tokenizer* tokenizer, int32_t id,
                                                   const char** bytes, size_t* len);

/* ---- Text streams: UTF-8-safe detokenization with stop strings ----------------------------- */

typedef struct anser_text_stream anser_text_stream;

/* Collects generated bytes and releases only text that is safe to show: never half a UTF-8
 * character, never bytes that may still become one of the n_stops stop strings (NUL-terminated;
 * empty ones are ignored). Once a stop string appears, the text before it is released and the
 * stream is stopped. */
ANSER_API anser_status anser_text_stream_new(const char* const* stop_strings, size_t n_stops,
                                             anser_text_stream** stream);
ANSER_API void anser_text_stream_free(anser_text_stream* stream);
/* Appends len bytes (e.g. anser_tokenizer_token_bytes of a sampled token); *text and *text_len
 * receive what can be shown now (possibly nothing), valid until the next call on the stream. */
ANSER_API anser_status anser_text_stream_push(anser_text_stream* stream, const char* bytes,
                                              size_t len, const char** text, size_t* text_len);
/* End of generation: everything still held, never part of a completed stop string. */
ANSER_API anser_status anser_text_stream_flush(anser_text_stream* stream, const char** text,
                                               size_t* text_len);
/* 1 once a stop string has appeared, else 0 (also for NULL). */
ANSER_API int32_t anser_text_stream_stopped(const anser_text_stream* stream);

/* ---- Sampling (the ChatRWKV order, the options of `anser generate`) ------------------------ */

typedef struct anser_sampler_params {
  size_t struct_size;      /* set by the caller: sizeof(anser_sampler_params) */
  float temperature;       /* 1; 0 (or less) = greedy */
  float top_p;             /* 0.85; >= 1 = off */
  int32_t top_k;           /* 0 = off */
  float min_p;             /* 0 = off; keeps p >= min_p * p_max */
  float presence_penalty;  /* 0; subtracted from every token already accepted */
  float frequency_penalty; /* 0; subtracted once per (decayed) occurrence */
  float penalty_decay;     /* 0.996; occurrence counts are multiplied by it at each accept */
  uint64_t seed;           /* 0; the same seed, calls and logits give the same tokens */
} anser_sampler_params;

/* Fills the fields params->struct_size covers with the defaults above. */
ANSER_API anser_status anser_sampler_params_default(anser_sampler_params* params);

typedef struct anser_sampler anser_sampler;

/* A seeded sampler over n_vocab logits that remembers accepted tokens for the penalties.
 * params NULL = the defaults. */
ANSER_API anser_status anser_sampler_new(int32_t n_vocab, const anser_sampler_params* params,
                                         anser_sampler** sampler);
ANSER_API void anser_sampler_free(anser_sampler* sampler);
/* Draws a token from n_logits (= n_vocab) logits, which it modifies: penalties subtracted, NaN
 * made -inf. Order: penalties, softmax, top-k, top-p, min-p, temperature, draw. */
ANSER_API anser_status anser_sampler_sample(anser_sampler* sampler, float* logits, size_t n_logits,
                                            int32_t* token);
/* Records a token that entered the context: decays every count, then counts `token`. */
ANSER_API anser_status anser_sampler_accept(anser_sampler* sampler, int32_t token);
/* Forgets the accepted tokens (the random sequence continues). */
ANSER_API anser_status anser_sampler_reset(anser_sampler* sampler);
/* One draw from `logits` (left unchanged) with a fresh sampler of `params` (NULL = defaults). */
ANSER_API anser_status anser_sample_logits(const float* logits, size_t n_logits,
                                           const anser_sampler_params* params, int32_t* token);

#ifdef __cplusplus
}
#endif

#endif /* ANSER_ANSER_H_ */
