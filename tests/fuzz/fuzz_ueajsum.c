/* fuzz_ueajsum.c - bytes as a ueajsum expression through the whole
 * compiler, as `ueajc EXPR --emit=...` runs it with no arrays (symbolic
 * sizes): parse, resolve, IR, every pass, then the C source and the CUDA
 * source with its plan.  The first byte picks options (helpers --unit,
 * --fp8-params, --bf16-params, the grads helpers, --no-fuse, --no-share,
 * and row-major weights as the CUDA targets keep them), the rest is the
 * expression.  Every input must compile or give diagnostics, which are
 * rendered (to /dev/null): never a crash, a leak, undefined behaviour or
 * a hang. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include "fuzz_compile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    UeajOptions o = {.verify = 1, .no_fuse = data[0] >> 5 & 1, .no_share = data[0] >> 6 & 1, .no_pack = data[0] >> 7};
    UeajCtx *ctx = ueaj_ctx_new(&o);
    const Source *src = source_new(ctx, "<fuzz>", (const char *)data + 1, size - 1);
    UExpr *e = parse_ueajsum(ctx, src);
    UConfig *c = e ? ueajsum_resolve(ctx, e, false) : NULL;
    IrGraph *g = NULL;
    if (c) {
        ueajsum_apply_helpers(c, data[0] & 0x1f);
        int64_t lsize[128];
        for (int i = 0; i < 128; i++) lsize[i] = -1;
        ArgShape *ss = calloc((size_t)c->nslots + 1, sizeof *ss), *ns = calloc((size_t)c->nnamed + 1, sizeof *ns);
        g = ir_from_ueajsum(ctx, c, ss, ns, lsize, DT_NONE, true);
        free(ss);
        free(ns);
    }
    fuzz_finish(ctx, g);
    return 0;
}
