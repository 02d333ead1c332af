/* internal.h - the types every phase of the compiler shares.
 *
 * One banner per file lists that file's exports.  Everything a compilation
 * allocates (AST, IR, strings, diagnostics) lives in the Ctx's arena and is
 * released at once by ueaj_ctx_free(); nothing here is global or mutable.
 * User mistakes become Diags; compiler bugs go through UEAJ_ASSERT.
 */
#ifndef UEAJ_INTERNAL_H
#define UEAJ_INTERNAL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "dtype.h"
#include "ueajc.h"

/* printf-like: the format is checked against its arguments and never NULL
 * (nonnull also keeps GCC's sanitizer builds from a false "null format
 * string" warning on the vsnprintf(NULL, 0, ...) that measures it). */
#define UEAJ_PRINTF(f, a) __attribute__((format(printf, f, a), nonnull(f)))

/* ---- internal errors (compiler bugs, never user input) ---------------- */
_Noreturn void ueaj_internal_error(const char *file, int line, const char *what);
#define UEAJ_ASSERT(c) ((c) ? (void)0 : ueaj_internal_error(__FILE__, __LINE__, #c))
#define ueaj_unreachable() ueaj_internal_error(__FILE__, __LINE__, "unreachable")

/* ---- arena.c ---------------------------------------------------------- */
typedef struct ArenaBlock ArenaBlock;
typedef struct Arena { ArenaBlock *head; size_t used_total; } Arena;

void  arena_init(Arena *a);
void  arena_free(Arena *a);                    /* releases every block */
void *arena_alloc(Arena *a, size_t n);         /* zeroed, 16-byte aligned */
void *arena_grow(Arena *a, void *p, size_t old_n, size_t new_n); /* copy into a bigger block */
char *arena_strdup(Arena *a, const char *s);
char *arena_strndup(Arena *a, const char *s, size_t n);
char *arena_printf(Arena *a, const char *fmt, ...) UEAJ_PRINTF(2, 3);
#define ARENA_NEW(a, T) ((T *)arena_alloc((a), sizeof(T)))
#define ARENA_ARRAY(a, T, n) ((T *)arena_alloc((a), sizeof(T) * (size_t)(n)))

/* A growable array of pointers in the arena. */
typedef struct PtrVec { void **v; int n, cap; } PtrVec;
void vec_push(Arena *a, PtrVec *v, void *p);

/* ---- buf.c: string builder with indentation --------------------------- */
typedef struct Buf { char *p; size_t len, cap; int indent; } Buf; /* malloc'd */

void buf_init(Buf *b);
void buf_free(Buf *b);
char *buf_take(Buf *b);                         /* ownership of p moves to caller */
void buf_puts(Buf *b, const char *s);
void buf_putc(Buf *b, char c);
void buf_printf(Buf *b, const char *fmt, ...) UEAJ_PRINTF(2, 3);
void buf_vprintf(Buf *b, const char *fmt, va_list ap) UEAJ_PRINTF(2, 0);
void buf_line(Buf *b, const char *fmt, ...) UEAJ_PRINTF(2, 3); /* indent, text, '\n' */
void buf_open(Buf *b, const char *fmt, ...) UEAJ_PRINTF(2, 3); /* line, then indent++ */
void buf_close(Buf *b, const char *fmt, ...) UEAJ_PRINTF(2, 3); /* indent--, then line */
void buf_c_string(Buf *b, const char *s);       /* a C string literal, escaped */

/* ---- source.c / diag.c: sources, spans, diagnostics -------------------- */
typedef struct Source {
    const char *name;    /* "models/llama.ue", "<expr>" */
    const char *text;    /* NUL-terminated (the lexer's sentinel) */
    size_t      len;
    int         id;
    /* A source may be a slice of another (a ueajsum string inside a model
     * file): its line 1 col 1 is at (parent_line, parent_col) of parent. */
    const struct Source *parent;
    int parent_line, parent_col;
} Source;

typedef struct Span { const Source *src; int line, col, end_col; } Span; /* cols 1-based, end inclusive */

typedef enum Severity { SEV_ERROR, SEV_WARNING, SEV_NOTE } Severity;

typedef struct Diag {
    Severity     sev;
    Span         span;
    const char  *msg;
    struct Diag *note;   /* attached notes, rendered after */
    struct Diag *next;
} Diag;

#define DIAG_MAX_ERRORS 20

Source *source_new(UeajCtx *ctx, const char *name, const char *text, size_t len);
Source *source_slice(UeajCtx *ctx, const Source *parent, int line, int col,
                     const char *text, size_t len);
Span    span_join(Span a, Span b);
Span    span_root(Span s);   /* a span in a slice source, in its file's coordinates */
const char *span_text(UeajCtx *ctx, Span s);    /* the source text of a one-line span */
Diag   *diag_error(UeajCtx *ctx, Span span, const char *fmt, ...) UEAJ_PRINTF(3, 4);
Diag   *diag_warning(UeajCtx *ctx, Span span, const char *fmt, ...) UEAJ_PRINTF(3, 4);
void    diag_note(UeajCtx *ctx, Diag *d, Span span, const char *fmt, ...) UEAJ_PRINTF(4, 5);
bool    diag_too_many(const UeajCtx *ctx);      /* error limit reached */


/* ---- ast.c: ueajsum expressions -------------------------------------- */
/* Grammar (grammar/parser.y):
 *   uexpr := uterm { '+' uterm } [ '->' [SHAPE] ]
 *   uterm := uarg { ',' uarg }
 *   uarg  := [ '*' | '&' ] ( SHAPE | NAME '=' [SHAPE] | '[' INT ']' | '{' NAME '}' | <empty> )  */
typedef enum UGroup { UG_INPUT, UG_PARAM, UG_LORA } UGroup;
typedef enum UArgKind { UARG_POS, UARG_NAMED, UARG_REF_INDEX, UARG_REF_NAME } UArgKind;

typedef struct UArg {
    UArgKind    kind;
    UGroup      group;       /* from the prefix: '*' param, '&' lora */
    Span        span;        /* the whole argument, prefix included */
    Span        prefix_span;
    const char *name;        /* NAMED, REF_NAME */
    Span        name_span;
    const char *letters;     /* POS, NAMED: axis letters ("" = scalar) */
    Span        letters_span;
    long        index;       /* REF_INDEX */
} UArg;

/* The most operands one term may have (pass_order orders at most 32) and
 * the most terms one expression may have: beyond them the parser reports
 * the first extra one and keeps no more. */
#define UEAJSUM_MAX_OPS   32
#define UEAJSUM_MAX_TERMS 256

typedef struct UTerm { UArg **args; int nargs; Span span; bool overfull; } UTerm;

typedef struct UExpr {
    UTerm     **terms;
    int         nterms;
    bool        arrow;       /* false: full contraction to a scalar */
    const char *rhs;         /* result letters ("" when none) */
    Span        rhs_span, arrow_span, span;
    bool        overfull;    /* more than UEAJSUM_MAX_TERMS terms (reported) */
} UExpr;

/* ---- ast.c: model files (.ue) ----------------------------------------- */
typedef enum AstKind {
    /* statements */
    A_MODEL, A_DIM, A_LET, A_PARAM, A_INPUT, A_STATE, A_OUTPUT, A_ASSIGN, A_REPEAT,
    /* expressions */
    A_NUM, A_STR, A_BOOL, A_NAME, A_FIELD, A_UNARY, A_BINARY, A_COND, A_DEFAULT,
    A_CALL, A_METHOD, A_KWARG
} AstKind;

typedef struct Ast Ast;
typedef struct AstList { Ast **v; int n, cap; } AstList;

struct Ast {
    AstKind     kind;
    Span        span;
    const char *name;        /* DIM/LET/PARAM/...: declared name; NAME; FIELD/METHOD/CALL: the identifier; KWARG key */
    Span        name_span;
    double      num;         /* NUM, BOOL */
    bool        is_int;      /* NUM written without '.'/exponent */
    const char *str;         /* STR (unescaped) */
    Span        str_inner;   /* STR: the span of the characters between the quotes */
    bool        str_plain;   /* STR: no escapes, so str_inner maps 1:1 onto str */
    int         op;          /* UNARY/BINARY: token code ('+', TOK_EQ, ...) */
    Ast        *a, *b, *c;   /* operands; DIM/LET/ASSIGN value = a; REPEAT bound = a */
    AstList     args;        /* CALL/METHOD args; PARAM/INPUT/STATE shape; REPEAT body */
    const char *dtype;       /* PARAM/INPUT/STATE ': DTYPE' (NULL = default) */
    Span        dtype_span;
    Ast        *load;        /* PARAM: the checkpoint-name expression, NULL = none */
    AstList     load_shape;  /* PARAM: checkpoint shape, empty = same as declared */
    AstList     load_ops;    /* PARAM: CALL nodes: transpose(...), ... */
    int         depth;       /* expressions: 1 + the deepest operand's (see AST_MAX_DEPTH) */
};

/* The deepest expression a model file may hold (operators, calls, fields,
 * brackets; `1+1+...+1` counts every '+'): evaluating and printing it
 * recurse, so the parser refuses deeper ones rather than let the stack
 * overflow.  Bison's own stack (10000 entries) bounds what is open at once. */
#define AST_MAX_DEPTH 256

typedef struct Program { AstList items; const Source *src; } Program;

typedef struct StrTok { const char *s; bool plain; } StrTok; /* STRING token value */

/* Parser state shared by the re2c lexer and the Bison parser. */
typedef struct Parser {
    UeajCtx      *ctx;
    const Source *src;
    const char   *cur, *tok, *lim, *mark, *line_start;
    int           line;
    int           mode;        /* 0: ueajsum expression, 1: model file */
    int           start_sent;  /* the start token was returned */
    int           depth;       /* () and [] nesting: newlines inside are spaces */
    Span          last_end;    /* the last real token, where the end of input is reported */
    int           nopen;       /* open brackets of any kind, for the notes below */
    Span          open_at[32]; /* where each open bracket is, for "to match this '('" */
    char          open_ch[32];
    int           last_tok;
    bool          too_deep;    /* AST_MAX_DEPTH was reported */
    UExpr        *uexpr;       /* result (mode 0) */
    Program      *prog;        /* result (mode 1) */
} Parser;

void ast_push(Arena *a, AstList *l, Ast *x);
Ast *ast_new(Parser *P, AstKind k, Span sp);
UExpr *parse_ueajsum(UeajCtx *ctx, const Source *src);   /* NULL after errors */
Program *parse_model(UeajCtx *ctx, const Source *src);   /* NULL after errors */
void ast_dump_uexpr(Buf *b, const UExpr *e);
void ast_dump_program(Buf *b, const Program *p);


/* ---- ueajsum.c: a resolved ueajsum expression (the seed's UeajsumConfig) */
typedef struct UOperand {
    const char *name;        /* NULL for a positional argument */
    int         slot;        /* positional slot, -1 for named */
    UGroup      group;
    const char *letters;     /* axis letters, "" = scalar */
    Span        span;        /* the declaration */
    Span        letters_span;
    bool        has_var;     /* variance set (e.g. by unit()) */
    double      var;
    DType       dtype;       /* storage dtype, DT_NONE = natural / from data */
    DType       grad_dtype;  /* DT_NONE = same as dtype */
} UOperand;

typedef struct UTermCfg {
    UOperand  **ops;         /* in written order; references resolved */
    Span       *op_spans;    /* where each operand is written in this term */
    int         nops;
    Span        span;
} UTermCfg;

typedef struct UConfig {
    const UExpr *expr;
    UOperand   **slots;  int nslots;   /* positional arguments by slot */
    UOperand   **named;  int nnamed;   /* named arguments, declaration order */
    UOperand     result;
    UTermCfg    *terms;  int nterms;
} UConfig;

UConfig   *ueajsum_resolve(UeajCtx *ctx, const UExpr *e, bool no_instantiation);
void       ueajsum_apply_helpers(UConfig *c, unsigned helpers);
int        ueajsum_helper_from_name(const char *name, unsigned *flag); /* "unit", "fp8_params", ... */
UOperand  *ueajsum_find(const UConfig *c, const char *name);
const char *ueajsum_operand_label(UeajCtx *ctx, const UOperand *o); /* "argument 1" / "parameter 'w'" */
void       ueajsum_dump(Buf *b, const UConfig *c);

/* ---- ir.c: the tensor graph ------------------------------------------- */
#define IR_MAX_RANK 8
/* The most elements one tensor may have: the product of its compile-time
 * axes (a size-0 axis counting as 1, so that every partial product the
 * emitters write is bounded too).  2^40 elements, 8 TiB as f64: far above
 * any model, and products of two such counts still fit int64_t. */
#define IR_MAX_ELEMS ((int64_t)1 << 40)
/* The most nodes and tensors one graph may have (a 126-layer Llama has
 * about 2200 nodes and 3300 tensors): model files are unrolled, and a
 * short file can ask for millions. */
#define IR_MAX_NODES   (1 << 14)
#define IR_MAX_TENSORS (1 << 15)

/* A size: a compile-time constant, or a dim bound at run time (dyn >= 0). */
typedef struct IrSize { int64_t c; int dyn; } IrSize;

typedef enum TenKind { TEN_INPUT, TEN_PARAM, TEN_OUTPUT, TEN_TEMP, TEN_STATE } TenKind;

typedef struct IrTensor {
    int         id;
    const char *name;        /* user name, or "t3" for temporaries */
    TenKind     kind;
    UGroup      group;       /* params: param / lora */
    int         rank;
    IrSize      shape[IR_MAX_RANK];
    bool        shape_known; /* set by sema for inputs/params, by pass_shapes for the rest */
    DType       dtype;       /* storage; DT_NONE until pass_precision */
    DType       grad_dtype;
    bool        has_var;
    double      var;
    Span        span;
    int         slot;        /* ueajsum positional slot, -1 */
    int         buf;         /* buffer index in the plan */
    const Ast  *decl;        /* model files: the declaration */
    const char *load_name;   /* params: checkpoint tensor name, NULL = initialise */
    int         load_rank;   /* checkpoint shape (before transforms) */
    int64_t     load_shape[IR_MAX_RANK];
    int         load_perm[IR_MAX_RANK]; /* applied after viewing with load_shape; identity if none */
    bool        has_perm;
    int         pack;        /* 0: row-major; else column panels this wide (pass_layout) */
    int         pack_nr;     /* packed: the leading axes that form the rows R */
} IrTensor;

#define IR_PACK_WIDTH 64

/* The op set, declared once: X(ID, name in dumps, operand count or -1 if it varies).
 *   CONTRACT  einsum of its operands (pairwise after pass_order)
 *   CAST      out = convert(in0)
 *   ADD..DIV  elementwise on equal shapes; MULC: in0 * fattr[0]
 *   SILU RELU GELU EXP NEG  elementwise unary
 *   RMSNORM   in0 [.., d] normalised over the last axis, times in1 [d]
 *             (iattr[0]: RMSNORM_HF | _CENTERED | _UNCENTERED | _NONE; fattr[0] eps)
 *   ROPE      in0 [n, .., k] rotated by positions in1 [n] (half-split);
 *             the inverse frequencies are compile-time constants (rope table)
 *   ATTENTION in0 q [n, H, k], in1 k [m, Hkv, k], in2 v [m, Hkv, v] -> [n, H, v];
 *             iattr[0] causal, iattr[1] window (0 none); fattr[0] scale;
 *             optional in3 pos [n] (i32): query i sits at key position pos[i]
 *             (else the queries are the last n of the m positions)
 *   CACHE_WRITE out = a state [C, ..] written in place: out[in1[i]] = in0[i]
 *   LAST_ROWS out [m, ..] = the last m rows of in0 [n, ..] (m <= n, run-time dims)
 *   EMBED     in0 table [V, d], in1 ids [n] -> [n, d]
 *   SOFTMAX   over the last axis
 *   SUM MEAN MAX  reductions over the last axis: [.., d] -> [..]
 *   FUSED     a chain of elementwise ops (pass_fuse): prog[0..nprog) on equal shapes */
#define OPS_X(X)                 \
    X(CONTRACT, "contract", -1)      \
    X(CAST, "cast", 1)              \
    X(ADD, "add", 2)                \
    X(SUB, "sub", 2)                \
    X(MUL, "mul", 2)                \
    X(DIV, "div", 2)                \
    X(MULC, "mulc", 1)              \
    X(SILU, "silu", 1)              \
    X(RELU, "relu", 1)              \
    X(GELU, "gelu", 1)              \
    X(EXP, "exp", 1)                \
    X(NEG, "neg", 1)                \
    X(RMSNORM, "rms_norm", -1)       \
    X(ROPE, "rope", 2)              \
    X(ATTENTION, "attention", -1)    \
    X(EMBED, "embedding", 2)        \
    X(SOFTMAX, "softmax", 1)        \
    X(SUM, "sum", 1)                \
    X(MEAN, "mean", 1)              \
    X(MAX, "max", 1)             \
    X(CACHE_WRITE, "cache_write", 2) \
    X(LAST_ROWS, "last_rows", 1)     \
    X(FUSED, "fused", -1)

enum { RMSNORM_HF, RMSNORM_CENTERED, RMSNORM_UNCENTERED, RMSNORM_NONE };

typedef enum OpKind {
#define X(id, name, arity) OP_##id,
    OPS_X(X)
#undef X
    OP_COUNT
} OpKind;

/* One step of a FUSED node: op (an elementwise op ADD..NEG) applied to
 * operands a and b (b unused by unary ops), each an input index (< nin) or
 * nin + the index of an earlier step; c: MULC's constant.  The node's
 * output is its last step. */
typedef struct IrFusedStep { OpKind op; int a, b; double c; } IrFusedStep;

typedef struct IrNode {
    int         id;
    OpKind      op;
    IrTensor   *out;
    IrTensor  **in;
    int         nin;
    const char **in_letters; /* CONTRACT: axis letters of each operand */
    Span       *in_spans;    /* where each operand is written */
    const char *out_letters; /* CONTRACT: axis letters of out */
    IrSize      lsize[128];  /* CONTRACT: size of each letter (pass_shapes) */
    bool        accumulate;  /* out += result instead of out = result */
    bool        has_scale;   /* variance scaling applies */
    double      scale;       /* 1/sqrt(var_prod), for dumps */
    double      var_prod;    /* prod of operand variances * prod of contracted sizes */
    DType       acc;         /* accumulation dtype (pass_precision) */
    Span        span;        /* the ueajsum term */
    const char *origin;      /* "term 1 of `ij,*jk->ik`" for comments */
    int         step;        /* contraction-order step within its term, 0 = unsplit */
    double      fattr[4];    /* op attributes (see the op table) */
    int         iattr[4];
    float      *table;       /* ROPE: inverse frequencies [iattr[2]] (arena) */
    IrFusedStep *prog;       /* FUSED: the steps, in order (arena) */
    int         nprog;
} IrNode;

/* A config.json field a model file read while it was lowered (model.c),
 * with the value it saw: the CUDA plan records them, so that a cubin run
 * with a checkpoint whose config.json differs is refused, not silently
 * wrong. */
typedef enum { CFG_ABSENT, CFG_NUM, CFG_BOOL, CFG_STR } CfgKind;
typedef struct IrConfigRead {
    const char *key;         /* "rope_scaling.factor" */
    CfgKind     kind;
    double      num;         /* CFG_NUM; CFG_BOOL: 0 or 1 */
    const char *str;         /* CFG_STR */
} IrConfigRead;

typedef struct IrGraph {
    PtrVec      tensors;     /* IrTensor *, id = index */
    PtrVec      nodes;       /* IrNode *, in execution order */
    const char *name;        /* "expr" or the model name */
    const char *source_text; /* the ueajsum text, for comments */
    const char *dyn_names[16];
    int         ndyn;
    PtrVec      config_reads; /* IrConfigRead *, in first-read order, one per key */
} IrGraph;

IrGraph  *ir_new(UeajCtx *ctx, const char *name);
IrTensor *ir_tensor(UeajCtx *ctx, IrGraph *g, const char *name, TenKind k, Span sp);
IrNode   *ir_node(UeajCtx *ctx, IrGraph *g, OpKind op, IrTensor *out, int nin);
void      ir_insert_node(IrGraph *g, int pos, IrNode *n); /* ownership: g */
const char *ir_op_name(OpKind op);
int         ir_op_arity(OpKind op);   /* -1: varies */
int64_t   ir_numel_const(const IrTensor *t);            /* -1 if any dim is dynamic */
/* The product of the first rank sizes of shape, 0-size axes as 1; -1
 * when it exceeds IR_MAX_ELEMS (or a size is negative). */
int64_t   ir_elems_bound(const int64_t *shape, int rank);
/* The same for t's compile-time axes (its run-time dims are left out). */
int64_t   ir_tensor_elems_bound(const IrTensor *t);
void      ir_dump(Buf *b, const IrGraph *g);
int       ir_verify(UeajCtx *ctx, const IrGraph *g, const char *after); /* internal errors */

/* ---- ir_build.c: ueajsum -> IR ---------------------------------------- */
/* Shapes of the arguments actually supplied (eval): NULL = not supplied. */
typedef struct ArgShape { int rank; int64_t shape[IR_MAX_RANK]; DType dtype; bool given; } ArgShape;
IrGraph *ir_from_ueajsum(UeajCtx *ctx, const UConfig *c, const ArgShape *slot_shapes,
                         const ArgShape *named_shapes, const int64_t *letter_sizes /* [128], -1 unknown */,
                         DType out_dtype, bool symbolic);

/* ---- passes: one entry point each; the IR is verified after each ------ */
int pass_shapes(UeajCtx *ctx, IrGraph *g);
int pass_variance(UeajCtx *ctx, IrGraph *g);
int pass_precision(UeajCtx *ctx, IrGraph *g);
int pass_order(UeajCtx *ctx, IrGraph *g);
int pass_layout(UeajCtx *ctx, IrGraph *g);
int pass_fuse(UeajCtx *ctx, IrGraph *g);
bool ir_is_elementwise(OpKind op);                       /* ADD..NEG */
/* A FUSED node's steps, or a plain elementwise node as one step (in *one). */
const IrFusedStep *ir_program(const IrNode *n, IrFusedStep *one, int *nsteps);
bool ir_same_shape(const IrTensor *a, const IrTensor *b); /* ranks and every size equal */
/* A parameter only embedding lookups read (a few rows per step). */
bool ir_lookup_only(const IrGraph *g, const IrTensor *t);
/* A FUSED node's (or a plain elementwise node's) steps, operands named
 * by their tensors: "f0 = silu(g.0); f1 = f0 * u.0" (the last is the output). */
void ir_fused_expr(Buf *b, const IrNode *n);
/* pass_layout.c: projections and the packed weight layout */
int     ir_stream_operand(const IrNode *n);  /* the weight operand of a streamable contraction, or -1 */
bool    ir_matmul_split(const IrNode *n, int w, int *nn, int *nr); /* x[N..,R..] . w[R..,O..]: axis counts */
int64_t ir_storage_elems(const IrTensor *t, int64_t logical);       /* elements stored (panels padded) */
void    ir_pack_values(const IrTensor *t, void *dst, const void *src); /* row-major -> panels */
/* Replaces the malloc'd row-major *buf (logical elements) by its packed copy; 0, or -1 out of memory. */
int     ir_pack_buffer(const IrTensor *t, void **buf, int64_t logical);

typedef struct PassInfo { const char *name; int (*run)(UeajCtx *, IrGraph *); } PassInfo;
extern const PassInfo ueaj_passes[];   /* NULL-terminated, in pipeline order */
int run_passes(UeajCtx *ctx, IrGraph *g, const char *stop_after, Buf *dump_after);

/* ---- memplan.c: temporaries that share memory ------------------------- */
/* One step of a program: the tensors (ids) it reads and writes. */
typedef struct MemStep { const int *reads; int nreads; const int *writes; int nwrites; } MemStep;
/* root[i] (nt entries): the tensor whose memory tensor i uses, i if its
 * own.  Temps whose lifetimes do not overlap share; see memplan.c. */
void mem_share(UeajCtx *ctx, const IrTensor *const *tensors, int nt, const MemStep *steps, int nsteps, int *root);
/* The same for the C backend, whose steps are g's nodes. */
void ir_share_buffers(UeajCtx *ctx, const IrGraph *g, int *root);
/* Zeroed host buffers for every root at run-time dims dyn, the other
 * tensors pointing into their root's (bufs, root: one per tensor).
 * 0, or -1 out of memory; ir_free_buffers frees them either way.
 * temps, temps_own (may be NULL): temp bytes as shared and unshared. */
int  ir_alloc_buffers(UeajCtx *ctx, const IrGraph *g, const int64_t *dyn, void **bufs, int *root, size_t *temps,
                      size_t *temps_own);
void ir_free_buffers(const IrGraph *g, void **bufs, const int *root);

/* ---- emit.c + dialect_*.c: one emitter, two dialects -------------------- */
typedef struct Dialect Dialect;  /* dialect.h */
extern const Dialect dialect_c;
extern const Dialect dialect_cuda;
char *emit_source(UeajCtx *ctx, const IrGraph *g, const Dialect *d); /* malloc'd; caller frees */
/* The same; for a dialect without a host entry point (CUDA) also the plan
 * text (runtime/cuda_plan.h) in *plan_out (malloc'd; NULL: not wanted). */
char *emit_source_plan(UeajCtx *ctx, const IrGraph *g, const Dialect *d, char **plan_out);
const char *emit_skip_prelude(const char *src); /* the part after the fixed prelude (--emit=c-kernels) */
/* extern "C" __device__ const char SYMBOL[] = "TEXT" (escaped: user text never becomes code). */
void emit_string_global(Buf *b, const char *symbol, const char *text);

/* ---- the compilation context ------------------------------------------ */
struct UeajCtx {
    Arena   arena;
    Diag   *diags, *diags_tail;
    int     nerrors, nwarnings;
    int     nsources;
    UeajOptions opt;        /* copied at ueaj_ctx_new */
};

#endif
