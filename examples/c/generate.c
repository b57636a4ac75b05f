/* Continue a prompt with Anser's C API: what `anser generate` does, in plain C.
 *
 *   generate MODEL PROMPT [MAX_TOKENS [SEED]]
 *
 * Builds against an installed Anser with
 *   cc generate.c $(pkg-config --cflags --libs anser) -o generate
 * and prints the same text as `anser generate -m MODEL -p PROMPT -n MAX_TOKENS --seed SEED`. */
#include <anser/anser.h>
#include <stdio.h>
#include <stdlib.h>

/* Prints the failed call's message and leaves. */
static void Check(anser_status status) {
  if (status != ANSER_OK) {
    fprintf(stderr, "generate: %s\n", anser_last_error());
    exit(1);
  }
}

int main(int argc, char** argv) {
  if (argc < 3 || argc > 5) {
    fprintf(stderr, "usage: %s MODEL PROMPT [MAX_TOKENS [SEED]]\n", argv[0]);
    return 2;
  }
  const int max_tokens = argc > 3 ? atoi(argv[3]) : 200;
  anser_sampler_params params;
  params.struct_size = sizeof params;
  Check(anser_sampler_params_default(&params));
  if (argc > 4) params.seed = strtoull(argv[4], NULL, 10);

  anser_model* model = NULL;
  Check(anser_model_load(argv[1], &model));
  anser_model_config config;
  config.struct_size = sizeof config;
  Check(anser_model_get_config(model, &config));
  anser_tokenizer* tokenizer = NULL;
  Check(anser_tokenizer_for_model(model, NULL, &tokenizer));

  /* A text encodes to at most one token per byte. */
  const char* prompt = argv[2];
  size_t prompt_len = 0;
  while (prompt[prompt_len] != '\0') ++prompt_len;
  int32_t* ids = malloc((prompt_len + 1) * sizeof *ids);
  float* logits = malloc((size_t)config.n_vocab * sizeof *logits);
  if (ids == NULL || logits == NULL) {
    fprintf(stderr, "generate: out of memory\n");
    return 1;
  }
  size_t n_ids = 0;
  Check(anser_tokenizer_encode(tokenizer, prompt, prompt_len, ids, prompt_len, &n_ids));
  if (n_ids == 0) ids[n_ids++] = 0; /* an empty prompt starts after the end-of-document token */

  anser_state* state = NULL;
  anser_session* session = NULL;
  anser_sampler* sampler = NULL;
  anser_text_stream* stream = NULL;
  Check(anser_state_new(model, &state));
  Check(anser_session_new(model, &session));
  Check(anser_sampler_new(config.n_vocab, &params, &sampler));
  Check(anser_text_stream_new(NULL, 0, &stream));
  Check(anser_session_prefill(session, state, ids, n_ids, 0, logits, (size_t)config.n_vocab));

  const char* text = NULL;
  size_t text_len = 0;
  for (int i = 0; i < max_tokens; ++i) {
    int32_t token = 0;
    Check(anser_sampler_sample(sampler, logits, (size_t)config.n_vocab, &token));
    if (token == 0) break; /* end of document */
    Check(anser_sampler_accept(sampler, token));
    const char* bytes = NULL;
    size_t len = 0;
    Check(anser_tokenizer_token_bytes(tokenizer, token, &bytes, &len));
    Check(anser_text_stream_push(stream, bytes, len, &text, &text_len));
    fwrite(text, 1, text_len, stdout);
    fflush(stdout);
    Check(anser_session_step(session, state, token, logits, (size_t)config.n_vocab));
  }
  Check(anser_text_stream_flush(stream, &text, &text_len));
  fwrite(text, 1, text_len, stdout);

  anser_text_stream_free(stream);
  anser_sampler_free(sampler);
  anser_session_free(session);
  anser_state_free(state);
  anser_tokenizer_free(tokenizer);
  anser_model_free(model);
  free(logits);
  free(ids);
  return 0;
}
