/* model.c - model description files: parse, and (soon) lower to the IR. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "internal.h"
#include "model.h"

int ueaj_model_main(const ModelOptions *o)
{
    UeajCtx *ctx = ueaj_ctx_new(&o->copt);
    int status = 1;
    FILE *f = fopen(o->path, "rb");
    if (!f) { fprintf(stderr, "ueajc: error: cannot open %s\n", o->path); ueaj_ctx_free(ctx); return 1; }
    Buf b;
    buf_init(&b);
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) for (size_t i = 0; i < n; i++) buf_putc(&b, chunk[i]);
    fclose(f);
    const Source *src = source_new(ctx, o->path, b.p ? b.p : "", b.len);
    buf_free(&b);
    Program *p = parse_model(ctx, src);
    if (p && o->emit && !strcmp(o->emit, "ast")) {
        Buf d;
        buf_init(&d);
        ast_dump_program(&d, p);
        fputs(d.p ? d.p : "", stdout);
        buf_free(&d);
        status = 0;
    } else if (p) {
        fprintf(stderr, "ueajc: error: %s: lowering model files is not implemented yet\n", o->path);
    }
    ueaj_diag_render(ctx, stderr);
    if (ueaj_error_count(ctx)) status = 1;
    ueaj_ctx_free(ctx);
    return status;
}
