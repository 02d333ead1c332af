/* chat_jinja.h - the inside of the chat-template interpreter (not a public
 * header: runtime/chat.h is).
 *
 * The interpreter is four files around one state struct, J:
 *   chat_value.c   values (Python's: none, bool, int, float, str, list,
 *                  tuple, dict, namespace, functions, Undefined), the arena
 *                  string builder, UTF-8, and printing them as Python's
 *                  str(), repr() and json.dumps() do; jx_fail(), the one way
 *                  out on an error;
 *   chat_parse.c   the lexer (text, tags, whitespace control) and the
 *                  recursive-descent parser into Nodes;
 *   chat_eval.c    scopes, operators, attribute access, filters, tests,
 *                  methods, statements;
 *   chat.c         chat_render() (which sets up J, the arena and the
 *                  setjmp that jx_fail() returns to), the built-in formats
 *                  and the tokenizer_config.json reader.
 * Everything is allocated in J's arena, which chat_render() frees on every
 * path; errors longjmp there with a message already in J's err buffer.
 */
#ifndef UEAJ_CHAT_JINJA_H
#define UEAJ_CHAT_JINJA_H

#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "chat.h"
#include "internal.h"

#define MAX_DEPTH  200                     /* nesting of expressions, blocks, brackets */
#define MAX_OUTPUT ((size_t)64 << 20)      /* the prompt, and any one string */
#define MAX_RANGE  1000000                 /* elements of range(), list * n */
#define MAX_ITERS  1000000L                /* loop iterations in one render */
#define MAX_MEMORY ((size_t)512 << 20)     /* arena bytes in one render */
#define MAX_WORK   ((int64_t)1 << 30)      /* work units in one render (jx_work): about a second */

typedef struct Str { const char *s; size_t n; } Str;

typedef enum VKind { V_UNDEF, V_NONE, V_BOOL, V_INT, V_FLOAT, V_STR, V_LIST, V_DICT, V_FUNC } VKind;
typedef struct Val Val;
typedef struct List { Val *v; int n; int tuple; } List;
typedef struct Dict { Str *k; Val *v; int n, cap; int ns; } Dict;   /* ns: a namespace() */
struct Val {
    VKind k;
    int   fn;                      /* V_FUNC: which builtin (chat_eval.c) */
    union { int b; int64_t i; double f; Str s; List *l; Dict *d; const char *why; Val *self; } u;
};                                 /* why: Undefined's message; self: a bound method's object */

enum { TK_EOF, TK_DATA, TK_VB, TK_VE, TK_BB, TK_BE, TK_NAME, TK_STR, TK_INT, TK_FLOAT, TK_OP };
typedef struct Tok { int k; uint32_t pos; Str s; int64_t i; double f; } Tok;
typedef struct SB { char *p; size_t n, cap; } SB;   /* a string builder in the arena */

enum {
    N_CONST, N_NAME, N_ATTR, N_ITEM, N_SLICE, N_CALL, N_FILTER, N_TEST, N_NEG, N_POS, N_NOT,
    N_BIN, N_CMP, N_AND, N_OR, N_COND, N_LIST, N_TUPLE, N_DICT,
    S_TEXT, S_PRINT, S_IF, S_FOR, S_SET, S_SETNS, S_SETBLOCK, S_BREAK, S_CONTINUE, S_BODY
};

typedef struct Node Node;
struct Node {
    int      k, op;                    /* op: binary operator, or 1 for "is not" */
    uint32_t pos;                      /* offset in the normalised template */
    Node    *a, *b, *c;
    Node   **v; int n;                 /* args, items, body, compared operands */
    Node   **w; int m;                 /* kwarg values, dict values, else body */
    Str     *names; int nn;            /* kwarg names, assignment targets */
    int     *ops;                      /* comparison operators */
    Str      s;                        /* name, attribute, filter, text */
    Val      val;                      /* N_CONST */
};
typedef struct NV { Node **v; int n, cap; } NV;

typedef struct J {
    Arena    a;
    jmp_buf  jb;                       /* set by chat_render() */
    int      rc;                       /* CHAT_ERR_* after a jx_fail() */
    char    *err;
    size_t   errlen;
    const char *src;                   /* the normalised template */
    size_t   n;
    Tok     *t;                        /* tokens */
    int      nt, capt, tp;
    int      depth, loops;             /* parser nesting, enclosing for loops */
    SB      *out;                      /* where output goes (a {% set %} block swaps it) */
    uint32_t at;                       /* position of the node being evaluated */
    long     iters;
    int64_t  work;                     /* jx_work() units spent */
} J;

/* ---- small helpers ------------------------------------------------------- */
static inline Str cstr(const char *s) { Str r = { s, strlen(s) }; return r; }
static inline int str_eq(Str a, const char *b) { return a.n == strlen(b) && memcmp(a.s, b, a.n) == 0; }
static inline int str_same(Str a, Str b) { return a.n == b.n && (a.n == 0 || memcmp(a.s, b.s, a.n) == 0); }
static inline const char *zstr(J *j, Str s) { return arena_strndup(&j->a, s.s, s.n); }
static inline Str sb_done(SB *b) { Str s = { b->p ? b->p : "", b->n }; return s; }

static inline Val v_undef(const char *why) { Val v = { .k = V_UNDEF }; v.u.why = why; return v; }
static inline Val v_none(void) { Val v = { .k = V_NONE }; return v; }
static inline Val v_bool(int b) { Val v = { .k = V_BOOL }; v.u.b = !!b; return v; }
static inline Val v_int(int64_t i) { Val v = { .k = V_INT }; v.u.i = i; return v; }
static inline Val v_float(double f) { Val v = { .k = V_FLOAT }; v.u.f = f; return v; }
static inline Val v_str(Str s) { Val v = { .k = V_STR }; v.u.s = s; return v; }
static inline Val v_list(List *l) { Val v = { .k = V_LIST }; v.u.l = l; return v; }
static inline Val v_dict(Dict *d) { Val v = { .k = V_DICT }; v.u.d = d; return v; }
static inline Val v_func(int fn, Val *self) { Val v = { .k = V_FUNC, .fn = fn }; v.u.self = self; return v; }

/* ---- chat_value.c ---------------------------------------------------------- */
/* "chat_template:LINE:COL: error: ..." into j->err, then longjmp(j->jb) */
_Noreturn void jx_fail(J *j, uint32_t pos, int rc, const char *fmt, ...) UEAJ_PRINTF(4, 5);
#define TFAIL(j, ...) jx_fail((j), (j)->at, CHAT_ERR_TEMPLATE, __VA_ARGS__)
#define UFAIL(j, ...) jx_fail((j), (j)->at, CHAT_ERR_UNSUPPORTED, __VA_ARGS__)

void jx_sb_put(J *j, SB *b, const char *s, size_t n);   /* enforces MAX_OUTPUT, MAX_MEMORY */
void jx_sb_puts(J *j, SB *b, const char *s);
void jx_sb_str(J *j, SB *b, Str s);
void jx_sb_printf(J *j, SB *b, const char *fmt, ...) UEAJ_PRINTF(3, 4);  /* short texts only */

/* Charges n units of work: a byte scanned, compared or copied, a list
 * element or dict entry visited, 64 for an expression node or statement.
 * Past MAX_WORK the render fails: the loop and memory limits alone let a
 * template scan a 60 MB string a million times (a hang, not a crash). */
void  jx_work(J *j, size_t n);

List *jx_list_new(J *j, int n);                         /* enforces MAX_MEMORY */
Dict *jx_dict_new(J *j);
Val  *jx_dict_find(J *j, Dict *d, Str k);
void  jx_dict_set(J *j, Dict *d, Str k, Val v);
const char *jx_tname(Val v);                            /* Python's type name */

uint32_t jx_u8_next(const char *s, size_t n, size_t *i); /* a bad byte reads as itself */
void     jx_u8_put(J *j, SB *b, uint32_t cp);
size_t   jx_u8_len(Str s);                              /* code points */
int      jx_py_space(uint32_t c);                       /* str.isspace() */
Str      jx_py_strip(Str s, const Str *chars, int which); /* which: 1 left, 2 right, 3 both */

void jx_py_float(J *j, SB *b, double d);                /* repr(float) */
void jx_to_str(J *j, SB *b, Val v);                     /* str(v); Undefined prints nothing */
void jx_repr(J *j, SB *b, Val v);
Str  jx_val_str(J *j, Val v);
void jx_to_json(J *j, SB *b, Val v, int indent, int level); /* indent < 0: none */

/* ---- chat_parse.c ----------------------------------------------------------- */
void jx_lex(J *j);                 /* j->src -> j->t */
NV   jx_parse(J *j);               /* j->t -> the template's statements */

/* ---- chat_eval.c ------------------------------------------------------------- */
/* Runs the statements with the chat variables bound, appending to *out. */
void jx_exec(J *j, NV body, const ChatMessage *msgs, int n, const char *bos, const char *eos,
             int add_generation_prompt, SB *out);

#endif
