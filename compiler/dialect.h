/* dialect.h - what differs between the C and CUDA outputs of emit.c.
 *
 * The emitter walks the IR once; a Dialect supplies the few target-specific
 * pieces.  Keep this table small: anything both targets write the same way
 * belongs in emit.c.
 */
#ifndef UEAJ_DIALECT_H
#define UEAJ_DIALECT_H

#include "internal.h"

struct Dialect {
    const char *name;          /* "c", "cuda" */
    const char *prelude;       /* fixed text from templates/, with @HOLES@ */
    const char *kernel_qual;   /* "static void" */
    const char *restrict_kw;   /* "restrict" */
    const char *entry_decl;    /* the entry point's declaration line */
    const char *(*type_name)(DType t);
    /* Open the parallel loops over n output letters with the given extents,
     * defining int64_t i_<letter> for each; close them again. */
    void (*open_parallel)(Buf *b, const char *letters, const char *const *ext, int n);
    void (*close_parallel)(Buf *b, int n);
    /* Split the range [0, extent) of one loop among the threads: defines
     * int64_t lo_<letter>, hi_<letter> for the calling thread; everything up
     * to split_close runs once per thread with its own range. */
    /* `cond`: a C condition under which threads are worth it (NULL: always) */
    void (*split_open)(Buf *b, char letter, const char *extent, const char *cond);
    void (*split_close)(Buf *b);
};

void emit_comment_text(Buf *b, const char *s);
const char *emit_size_str(UeajCtx *ctx, IrSize s);               /* "4096" or "D0" */
const char *emit_numel_str(UeajCtx *ctx, const IrTensor *t, int from, int to); /* product of axes */
void emit_float_lit(Buf *b, double v, DType acc);                /* "0.5f" */
/* emit_ops.c: the body of a built-in op's kernel (everything but CONTRACT, CAST) */
void emit_builtin(UeajCtx *ctx, Buf *b, const Dialect *d, const IrGraph *g, const IrNode *n);

#endif
