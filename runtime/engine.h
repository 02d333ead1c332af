/* engine.h - a compiled generative model with its weights and KV cache.
 *
 * The engine knows nothing about LLaMA.  It runs any model file that
 * follows the generative contract:
 *     dim n = runtime, dim C = runtime      tokens in this call, cache length
 *     dim m = runtime (optional)            rows of logits: n, or 1 (the last token)
 *     input tokens[n] : i32, input pos[n] : i32
 *     output logits[m or n, V] : f32        (the first output)
 * with its state (the KV cache) kept between calls.  Prefill passes the
 * whole prompt in one call; decoding passes one token per call.
 */
#ifndef UEAJ_ENGINE_H
#define UEAJ_ENGINE_H

#include <stddef.h>
#include <stdint.h>
#include "ueajc.h"

typedef struct Engine Engine;

typedef struct EngineOptions {
    const char *model_src;    /* the model file's text (e.g. the embedded llama.ue) */
    const char *model_name;   /* its name in diagnostics ("models/llama.ue") */
    const char *config_path;  /* config.json, bound as config.* */
    const char *weights;      /* a directory (HF layout) or one .safetensors file; NULL: seed init */
    int64_t     ctx_len;      /* C: the KV cache length */
    int64_t     max_batch;    /* the most tokens one call may pass (prefill) */
    int         threads;      /* 0: all cores */
    int         verbose;
    const char *device;       /* "cpu" (NULL: the same), "cuda", "harness" or "auto": see engine.c */
    const char *cubin;        /* a cubin from `ueajc FILE.ue -o x.cubin` to run instead of compiling
                               * model_src (device cuda or harness; weights required; its config
                               * must be config_path's, field by field) */
    UeajOptions copt;
} EngineOptions;

/* Compiles (through the cache), allocates, loads the weights.  NULL on
 * failure with diagnostics already printed to stderr and a summary in err. */
Engine *engine_new(const EngineOptions *o, char *err, size_t errlen);
void    engine_free(Engine *e);

int64_t engine_vocab(const Engine *e);
int64_t engine_ctx_len(const Engine *e);
size_t  engine_weight_bytes(const Engine *e);   /* parameter bytes read per token (all but lookup tables) */

/* Runs n tokens at positions pos0..pos0+n-1 (0 < n <= max_batch,
 * pos0 + n <= ctx_len).  The logits are then at engine_logits(e):
 * [n, V] for every token when all_logits is set (or the model has no dim
 * m), else [1, V] for the last token only.  Returns 0, or -1 with a message. */
int          engine_forward(Engine *e, const int32_t *ids, int n, int64_t pos0, int all_logits, char *err,
                            size_t errlen);
const float *engine_logits(const Engine *e);
int64_t      engine_logits_rows(const Engine *e);   /* rows of the last call's logits */
/* "cpu", "cuda" or "harness": the device the engine runs on (auto resolved). */
const char  *engine_device(const Engine *e);
/* The executor's time for the steps of every engine_forward so far, in ms
 * (CUDA events on the GPU, the monotonic clock in the harness; 0 on the cpu). */
double       engine_device_ms(const Engine *e);

#endif
