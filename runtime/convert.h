/* convert.h - `ueajc convert`: a llama-architecture GGUF file into a
 * HuggingFace-layout model directory.
 *
 *   ueajc convert MODEL.gguf -o DIR [--dtype f32|bf16|f16] [--force] [-q]
 *   ueajc convert MODEL.gguf --info
 *
 * DIR receives model.safetensors (HF tensor names, [out, in] row-major,
 * q_proj/k_proj rows un-permuted), config.json, generation_config.json,
 * tokenizer.json and tokenizer_config.json.  It is built in a temporary
 * sibling directory and renamed into place, so a failed conversion never
 * leaves a half-written DIR.  See convert.c for the details and choices.
 */
#ifndef UEAJ_CONVERT_H
#define UEAJ_CONVERT_H

#include <stdbool.h>
#include <stdint.h>
#include "gguf.h"

typedef struct ConvertOptions {
    DType dtype;        /* weights: DT_F32 (the default, also for DT_NONE), DT_BF16 or DT_F16 */
    bool  force;        /* replace an existing non-empty DIR */
} ConvertOptions;

typedef struct ConvertReport {
    int      n_tensors;                 /* tensors written */
    int      type_count[GGML_T_COUNT];  /* GGUF tensors converted, by ggml type */
    uint64_t weight_bytes;              /* size of model.safetensors */
    int64_t  n_vocab, n_merges, n_added;
    int64_t  n_duplicate_tokens;        /* later duplicates left out of the vocab */
    bool     tied;                      /* no output.weight: tie_word_embeddings */
    bool     tokenizer_verbatim;        /* tokenizer.json came from tokenizer.huggingface.json */
} ConvertReport;

/* Converts; returns 0, or -1 with "PATH: error: ..." in *err (PATH is the
 * GGUF file for problems with its content, DIR for output problems).
 * rep may be NULL. */
int ueaj_convert_gguf(const char *gguf_path, const char *out_dir, const ConvertOptions *opt,
                      ConvertReport *rep, TioError *err);

/* The command line (argv[0] is "convert").  Returns the exit status:
 * 0 success, 1 conversion error, 2 usage error.  Never exits. */
int ueaj_convert_main(int argc, char **argv);

#endif
