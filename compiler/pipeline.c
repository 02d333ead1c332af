/* pipeline.c - what the compiler does, in order.
 *
 *   text --parse--> AST --resolve--> UConfig --build--> IR
 *        --shapes--> --variance--> --precision--> --order--> --layout--> --fuse--> IR (final)
 *        --emit--> C source --cc--> shared object (runtime/jit_c.c)
 *
 * run_passes() is the pass list; the IR is verified after each pass, and
 * `--emit=ir-after=PASS` stops there and prints it.
 */
#include <stdlib.h>
#include <string.h>
#include "internal.h"

const PassInfo ueaj_passes[] = {
    {"shapes", pass_shapes},
    {"variance", pass_variance},
    {"precision", pass_precision},
    {"order", pass_order},
    {"layout", pass_layout},
    {"fuse", pass_fuse},
    {NULL, NULL},
};

int run_passes(UeajCtx *ctx, IrGraph *g, const char *stop_after, Buf *dump_after)
{
    if (ctx->opt.verify) ir_verify(ctx, g, NULL);
    for (const PassInfo *p = ueaj_passes; p->name; p++) {
        if (p->run(ctx, g) != 0 || ctx->nerrors) return -1;
        if (ctx->opt.verify) ir_verify(ctx, g, p->name);
        if (stop_after && !strcmp(stop_after, p->name)) {
            if (dump_after) ir_dump(dump_after, g);
            return 1;
        }
    }
    return 0;
}

UeajCtx *ueaj_ctx_new(const UeajOptions *opt)
{
    UeajCtx *ctx = calloc(1, sizeof *ctx);
    if (!ctx) return NULL;
    arena_init(&ctx->arena);
    if (opt) ctx->opt = *opt; else ctx->opt.verify = 1;
    return ctx;
}

void ueaj_ctx_free(UeajCtx *ctx)
{
    if (!ctx) return;
    arena_free(&ctx->arena);
    free(ctx);
}
