/* model_sema.h - shared by model.c (statements, expressions, ueajsum calls)
 * and model_builtins.c (the built-in ops of model files). */
#ifndef UEAJ_MODEL_SEMA_H
#define UEAJ_MODEL_SEMA_H

#include <cjson/cJSON.h>
#include "internal.h"
#include "model.h"

typedef enum VKind { V_UNDEF, V_NUM, V_BOOL, V_STR, V_RUNTIME, V_TENSOR, V_ERROR } VKind;

typedef struct Val {
    VKind       k;
    double      num;
    bool        is_int;
    const char *str;
    IrTensor   *t;
    int         dyn;       /* V_RUNTIME: the run-time dim index */
    const char *undef_why; /* V_UNDEF: which config field was absent */
} Val;

/* The most statements a model file may run, repeat bodies counted once
 * per iteration (models/llama.ue runs about 3000 for 126 layers). */
#define MODEL_MAX_STMTS (1 << 18)
/* The largest last axis rope() takes: its inverse frequencies (k / 2 of
 * them) are a constant table in the generated code (head dims are 64-256). */
#define ROPE_MAX_K 65536

typedef struct Binding { const char *name; Val v; Span span; } Binding;

typedef struct MSema {
    UeajCtx         *ctx;
    IrGraph         *g;
    cJSON           *config;
    const ModelOptions *opt;
    Binding        **env;        /* names -> values: a hash table (open addressing), one binding per name */
    int              env_cap, env_n;
    struct NameUse  *names;      /* tensor names -> how many tensors have each (hash table) */
    int              names_cap, names_n, names_upto; /* g->tensors[0 .. names_upto) are counted */
    long             nstmts;     /* statements run so far, repeat bodies counted per iteration */
    bool             stopped;    /* a limit was reached: run nothing more */
    const char      *layer_var;
    int              layer;      /* the current repeat index, -1 outside */
    bool            *dim_used;   /* per --dim option: did a dim/let statement take it */
} MSema;

Val  verr(void);
Val  vnum(double x, bool is_int);
Val  vtensor(IrTensor *t);
const char *kind_str(VKind k);
Val  eval(MSema *S, const Ast *x);
bool eval_int(MSema *S, const Ast *x, int64_t *out, IrSize *sz);
IrTensor *new_temp(MSema *S, Span sp, DType dt, int rank, const IrSize *shape);
const char *shape_str(MSema *S, const IrTensor *t);
Val  model_tensor_binary(MSema *S, const Ast *x, Val a, Val b, bool swapped);
Val  eval_call(MSema *S, const Ast *x, unsigned helpers);
Val  model_builtin(MSema *S, const Ast *x);   /* model_builtins.c */
IrGraph *model_lower(UeajCtx *ctx, const Program *p, cJSON *config, const ModelOptions *opt);
/* model_driver.c */
cJSON *model_read_config(UeajCtx *ctx, const char *path);     /* errors as diagnostics (file:line:col) */
struct Checkpoint;
/* Checks every parameter's checkpoint tensor (all problems at once, then
 * unused tensors as warnings, on stderr); 0 when all can be loaded. */
int    model_check_weights(const IrGraph *g, const struct Checkpoint *ck);
int    model_load_param(const IrTensor *t, const struct Checkpoint *ck, void *dst);   /* message on stderr */

#endif
