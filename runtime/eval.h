/* eval.h - `ueajc eval`: one ueajsum expression, evaluated on arrays from files. */
#ifndef UEAJ_EVAL_H
#define UEAJ_EVAL_H

#include <stdint.h>
#include "ueajc.h"

#define EVAL_MAX_KV 64

typedef struct EvalKV { const char *key, *val; } EvalKV;

typedef struct EvalOptions {
    const char  *expr;
    const char **files;        /* as given: "x.npy" (next slot), "name=x.npy", "_" (skip a slot) */
    int          nfiles;
    const char  *out_path;     /* .npy or .safetensors; NULL with emit */
    unsigned     helpers;      /* UEAJ_H_* */
    EvalKV       variances[EVAL_MAX_KV]; int nvar;   /* NAME=V (NAME: argument name, slot, or "out") */
    EvalKV       dtypes[EVAL_MAX_KV];    int ndtype; /* NAME=DT */
    EvalKV       dims[EVAL_MAX_KV];      int ndims;  /* letter=N */
    const char  *out_dtype;
    uint64_t     seed;
    const char  *emit;         /* NULL, "ast", "config", "ir", "ir-after=PASS", "c", or a CUDA stage */
    const char  *arch;         /* --arch for the CUDA stages (NULL: sm_90) */
    UeajOptions  copt;
} EvalOptions;

/* Runs the whole job; diagnostics go to stderr, dumps to stdout.
 * Returns the process exit status (0 ok, 1 error). */
int ueaj_eval(const EvalOptions *o);

#endif
