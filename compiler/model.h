/* model.h - compiling model description files (.ue). */
#ifndef UEAJ_MODEL_H
#define UEAJ_MODEL_H

#include "eval.h"

typedef struct ModelOptions {
    const char *path;          /* the .ue file */
    const char *config;        /* config.json, or NULL */
    const char *out_path;      /* .c or .so, or NULL with emit */
    const char *emit;          /* NULL, "ast", "ir", "ir-after=PASS", "c", "c-kernels",
                                  "cuda", "cuda-kernels", "plan", "ptxas" */
    const char *arch;          /* --arch sm_XX for CUDA outputs (NULL: sm_90) */
    const char *run;           /* --run "ID ...": the demonstration run */
    const char *weights;       /* --weights FILE.safetensors (HF names), else seed init */
    const char *dump;          /* --dump OUT.npy: the first output */
    const char *device;        /* --device cpu|cuda|harness|auto (NULL: cpu, the C backend) */
    int         repeat;        /* --repeat K: time K more forward passes, print the median */
    int         decode;        /* --decode K: then time K one-token passes at position n (cuda, harness) */
    int         compare;       /* --compare: run the C backend too and compare the outputs */
    EvalKV      inputs[EVAL_MAX_KV]; /* --input NAME=FILE.npy */
    int         ninputs;
    EvalKV      dims[EVAL_MAX_KV];
    int         ndims;
    UeajOptions copt;
} ModelOptions;

/* The whole job for `ueajc FILE.ue ...`; returns the exit status. */
int ueaj_model_main(const ModelOptions *o);

#endif
