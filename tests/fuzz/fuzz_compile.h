/* fuzz_compile.h - the back half the compiler's fuzz targets share
 * (fuzz_ueajsum.c, fuzz_model.c): a lowered graph through every pass and
 * both emitters (C, and CUDA with its plan), the diagnostics rendered (to
 * /dev/null: the message and caret code runs on odd positions too), and
 * the compilation's arena freed. */
#ifndef UEAJ_FUZZ_COMPILE_H
#define UEAJ_FUZZ_COMPILE_H

#include <stdio.h>
#include <stdlib.h>
#include "internal.h"

/* g may be NULL (lowering failed); ctx is freed. */
static void fuzz_finish(UeajCtx *ctx, IrGraph *g)
{
    if (g && run_passes(ctx, g, NULL, NULL) == 0) {
        free(emit_source(ctx, g, &dialect_c));
        char *plan = NULL;
        free(emit_source_plan(ctx, g, &dialect_cuda, &plan));
        free(plan);
    }
    FILE *null = fopen("/dev/null", "w");
    if (null) {
        ueaj_diag_render(ctx, null);
        fclose(null);
    }
    ueaj_ctx_free(ctx);
}

#endif
