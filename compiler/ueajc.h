/* ueajc.h - the public API of the compiler, used by the CLI and the runtime.
 *
 * A UeajCtx is one compilation: it owns an arena with everything the
 * compilation makes and a list of diagnostics.  Functions return 0 on
 * success and -1 after reporting errors into the context; render them with
 * ueaj_diag_render().  Nothing here exits or keeps global state.
 */
#ifndef UEAJC_H
#define UEAJC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define UEAJC_VERSION "0.1.0"

typedef struct UeajCtx UeajCtx;

/* Chained ueajsum helpers, as flags; applied in this order. */
enum {
    UEAJ_H_UNIT        = 1 << 0,  /* variance 1 on every argument and the result */
    UEAJ_H_FP8_PARAMS  = 1 << 1,  /* parameter storage f8e4m3 */
    UEAJ_H_BF16_PARAMS = 1 << 2,  /* parameter storage bf16 */
    UEAJ_H_BF16_GRADS  = 1 << 3,  /* parameter gradient dtype bf16 */
    UEAJ_H_FP32_GRADS  = 1 << 4,  /* parameter gradient dtype f32 */
};

typedef struct UeajOptions {
    int         color;          /* colored diagnostics */
    int         verify;         /* run ir_verify after every pass (default on) */
    int         verbose;
    const char *cache_dir;      /* NULL: $UEAJ_CACHE or $XDG_CACHE_HOME/ueajc or ~/.cache/ueajc */
    const char *cc;             /* NULL: $CC or "cc" */
    int         no_pack;        /* keep every weight row-major (targets that hand weights to a library) */
    int         no_fuse;        /* pass fuse leaves elementwise chains alone (--no-fuse) */
    int         no_share;       /* every temp keeps a buffer of its own (--no-share; memplan.c) */
} UeajOptions;

UeajCtx *ueaj_ctx_new(const UeajOptions *opt); /* opt may be NULL */
void     ueaj_ctx_free(UeajCtx *ctx);
int      ueaj_error_count(const UeajCtx *ctx);

/* Renders every diagnostic (clang style: file:line:col: error: msg, the
 * source line, a caret line) to f, in the order reported. */
void ueaj_diag_render(const UeajCtx *ctx, FILE *f);

#endif
