/* The C API from a plain C99 program: compiles as C, links libanser.so, and checks a fixture
 * model's logits against the reference, the main calls, and their error codes.
 *
 *   c_api_test MODEL LOGITS TOKEN...
 *
 * MODEL is a fixture checkpoint, LOGITS its reference file for TOKEN... (float32 rows, one per
 * token, n_vocab each). The tests build it in the tree and against an installed package. */
#include <anser/anser.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures = 0;

#define EXPECT(condition)                                                                      \
  do {                                                                                         \
    if (!(condition)) {                                                                        \
      fprintf(stderr, "%s:%d: expected %s (last error: %s)\n", __FILE__, __LINE__, #condition, \
              anser_last_error());                                                             \
      ++failures;                                                                              \
    }                                                                                          \
  } while (0)

/* The status, and a message naming the function when it is an error. */
static int Failed(anser_status status, anser_status expected, const char* function) {
  return status == expected && strncmp(anser_last_error(), function, strlen(function)) == 0;
}

/* 0 when `got` matches `ref` within max |d| <= 1e-4 * std(ref) with the same argmax (the
 * fixtures' float32 bar), else 1 after describing the mismatch. */
static int RowDiffers(const float* got, const float* ref, int n, int row) {
  double mean = 0.0, var = 0.0, worst = 0.0;
  int got_max = 0, ref_max = 0, i;
  for (i = 0; i < n; ++i) mean += ref[i];
  mean /= n;
  for (i = 0; i < n; ++i) var += (ref[i] - mean) * (ref[i] - mean);
  for (i = 0; i < n; ++i) {
    const double d = fabs((double)got[i] - ref[i]);
    if (!(d <= worst)) worst = d;
    if (got[i] > got[got_max]) got_max = i;
    if (ref[i] > ref[ref_max]) ref_max = i;
  }
  if (worst <= 1e-4 * sqrt(var / n) && got_max == ref_max) return 0;
  fprintf(stderr, "row %d: max |dlogit| %g (tolerance %g), argmax %d vs %d\n", row, worst,
          1e-4 * sqrt(var / n), got_max, ref_max);
  return 1;
}

static float* ReadFloats(const char* path, size_t* count) {
  FILE* f = fopen(path, "rb");
  float* data = NULL;
  long bytes;
  if (f == NULL) return NULL;
  fseek(f, 0, SEEK_END);
  bytes = ftell(f);
  fseek(f, 0, SEEK_SET);
  data = malloc((size_t)bytes);
  *count = fread(data, sizeof(float), (size_t)bytes / sizeof(float), f);
  fclose(f);
  return data;
}

static void CheckLibrary(void) {
  EXPECT(anser_api_version() == ANSER_API_VERSION);
  EXPECT(strlen(anser_version()) > 0);
  EXPECT(strcmp(anser_status_name(ANSER_ERROR_TOO_LATE), "ANSER_ERROR_TOO_LATE") == 0);
}

static void CheckForward(anser_model* model, const int32_t* tokens, size_t n, const float* ref,
                         int n_vocab) {
  anser_session* session = NULL;
  anser_state* state = NULL;
  anser_state* copy = NULL;
  float* logits = malloc(n * (size_t)n_vocab * sizeof(float));
  float* last = malloc((size_t)n_vocab * sizeof(float));
  size_t i;
  EXPECT(anser_session_new(model, &session) == ANSER_OK);
  EXPECT(anser_state_new(model, &state) == ANSER_OK);

  EXPECT(anser_session_prefill(session, state, tokens, n, 1, logits, n * (size_t)n_vocab) ==
         ANSER_OK);
  for (i = 0; i < n; ++i) {
    failures +=
        RowDiffers(logits + i * (size_t)n_vocab, ref + i * (size_t)n_vocab, n_vocab, (int)i);
  }
  EXPECT(anser_state_copy(state, &copy) == ANSER_OK);
  EXPECT(anser_state_reset(state) == ANSER_OK);
  for (i = 0; i < n; ++i) {
    EXPECT(anser_session_step(session, state, tokens[i], last, (size_t)n_vocab) == ANSER_OK);
  }
  failures += RowDiffers(last, ref + (n - 1) * (size_t)n_vocab, n_vocab, (int)n - 1);

  /* Errors: a code and a message naming the function, and nothing changed. */
  EXPECT(Failed(anser_session_step(session, state, n_vocab, last, (size_t)n_vocab),
                ANSER_ERROR_INVALID_ARGUMENT, "anser_session_step"));
  EXPECT(Failed(anser_session_step(session, state, 1, last, (size_t)n_vocab - 1),
                ANSER_ERROR_BUFFER_TOO_SMALL, "anser_session_step"));
  EXPECT(Failed(anser_session_prefill(session, NULL, tokens, n, 0, NULL, 0),
                ANSER_ERROR_INVALID_ARGUMENT, "anser_session_prefill"));
  {
    anser_state* states[2];
    int32_t two[2];
    float* batch = malloc(2 * (size_t)n_vocab * sizeof(float));
    states[0] = state;
    states[1] = copy;
    two[0] = tokens[0];
    two[1] = tokens[0];
    EXPECT(anser_session_step_batch(session, states, two, 2, batch, 2 * (size_t)n_vocab) ==
           ANSER_OK);
    free(batch);
  }
  anser_state_free(copy);
  anser_state_free(state);
  anser_session_free(session);
  free(last);
  free(logits);
}

static void CheckTextAndSampling(anser_model* model, int n_vocab) {
  anser_tokenizer* tokenizer = NULL;
  anser_text_stream* stream = NULL;
  anser_sampler* sampler = NULL;
  anser_sampler_params params;
  const char* stops[1];
  const char* text = NULL;
  size_t len = 0, n_ids = 0;
  int32_t ids[16];
  char decoded[16];
  float* logits = calloc((size_t)n_vocab, sizeof(float));
  int32_t token = -1;

  EXPECT(anser_tokenizer_for_model(model, NULL, &tokenizer) == ANSER_OK);
  EXPECT(anser_tokenizer_encode(tokenizer, "Hi!", 3, ids, 16, &n_ids) == ANSER_OK);
  EXPECT(anser_tokenizer_decode(tokenizer, ids, n_ids, decoded, sizeof decoded, &len) == ANSER_OK);
  EXPECT(len == 3 && strcmp(decoded, "Hi!") == 0);
  EXPECT(Failed(anser_tokenizer_encode(tokenizer, "Hi!", 3, ids, 1, &n_ids),
                ANSER_ERROR_BUFFER_TOO_SMALL, "anser_tokenizer_encode"));

  stops[0] = "END";
  EXPECT(anser_text_stream_new(stops, 1, &stream) == ANSER_OK);
  EXPECT(anser_text_stream_push(stream, "ok E", 4, &text, &len) == ANSER_OK);
  EXPECT(len == 3 && memcmp(text, "ok ", 3) == 0);
  EXPECT(anser_text_stream_push(stream, "ND", 2, &text, &len) == ANSER_OK);
  EXPECT(len == 0 && anser_text_stream_stopped(stream) == 1);

  params.struct_size = sizeof params;
  EXPECT(anser_sampler_params_default(&params) == ANSER_OK);
  params.temperature = 0.0f;
  logits[n_vocab - 1] = 5.0f;
  EXPECT(anser_sampler_new(n_vocab, &params, &sampler) == ANSER_OK);
  EXPECT(anser_sampler_sample(sampler, logits, (size_t)n_vocab, &token) == ANSER_OK);
  EXPECT(token == n_vocab - 1);
  EXPECT(anser_sampler_accept(sampler, token) == ANSER_OK);
  EXPECT(anser_sample_logits(logits, (size_t)n_vocab, &params, &token) == ANSER_OK);
  EXPECT(token == n_vocab - 1);
  params.struct_size = 0;
  EXPECT(Failed(anser_sampler_new(n_vocab, &params, &sampler), ANSER_ERROR_INVALID_ARGUMENT,
                "anser_sampler_new"));

  anser_sampler_free(sampler);
  anser_text_stream_free(stream);
  anser_tokenizer_free(tokenizer);
  free(logits);
}

int main(int argc, char** argv) {
  anser_model* model = NULL;
  anser_model_config config;
  float* ref = NULL;
  int32_t* tokens = NULL;
  size_t n_tokens, n_ref = 0, i;
  if (argc < 4) {
    fprintf(stderr, "usage: %s MODEL LOGITS TOKEN...\n", argv[0]);
    return 2;
  }
  n_tokens = (size_t)(argc - 3);
  tokens = malloc(n_tokens * sizeof *tokens);
  for (i = 0; i < n_tokens; ++i) tokens[i] = (int32_t)atoi(argv[3 + i]);

  CheckLibrary();
  EXPECT(Failed(anser_model_load("/nonexistent/model.pth", &model), ANSER_ERROR_FILE,
                "anser_model_load"));
  if (anser_model_load(argv[1], &model) != ANSER_OK) {
    fprintf(stderr, "%s\n", anser_last_error());
    return 1;
  }
  EXPECT(Failed(anser_set_threads(1), ANSER_ERROR_TOO_LATE, "anser_set_threads"));
  config.struct_size = sizeof config;
  EXPECT(anser_model_get_config(model, &config) == ANSER_OK);
  ref = ReadFloats(argv[2], &n_ref);
  EXPECT(ref != NULL && n_ref == n_tokens * (size_t)config.n_vocab);
  if (ref != NULL && n_ref == n_tokens * (size_t)config.n_vocab) {
    CheckForward(model, tokens, n_tokens, ref, config.n_vocab);
  }
  CheckTextAndSampling(model, config.n_vocab);

  anser_model_free(model);
  free(ref);
  free(tokens);
  if (failures > 0) {
    fprintf(stderr, "%d check(s) failed\n", failures);
    return 1;
  }
  printf("C API: all checks passed (%zu tokens, n_vocab %d)\n", n_tokens, (int)config.n_vocab);
  return 0;
}
