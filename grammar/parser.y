/* parser.y - the Bison grammar of ueajsum expressions and model files.
 *
 * One pure (reentrant) parser with locations; the lexer injects a start
 * token (START_EXPR or START_MODEL) that selects the language.  Actions
 * only build AST nodes in the context's arena; all checking happens in
 * sema.c.  Syntax errors are reported with what was expected, and model
 * files recover at the end of the statement (an `error NL` rule), so one
 * run reports many mistakes (up to DIAG_MAX_ERRORS).
 */
%require "3.8"
%define api.pure full
%define api.prefix {ueaj_yy}
%define api.token.prefix {TOK_}
%define api.value.type union
%define api.location.type {Span}
%define parse.error custom
%define parse.lac full
%locations
%param {Parser *P}

%code requires {
#include "internal.h"
}

%code provides {
int ueaj_yylex(UEAJ_YYSTYPE *lval, Span *loc, Parser *P);
}

%code {
#include <string.h>
static void ueaj_yyerror(Span *loc, Parser *P, const char *msg);

#define YYLLOC_DEFAULT(Cur, Rhs, N)                                              \
    do {                                                                         \
        if (N) (Cur) = span_join(YYRHSLOC(Rhs, 1), YYRHSLOC(Rhs, N));            \
        else { (Cur) = YYRHSLOC(Rhs, 0);                                         \
               (Cur).col = (Cur).end_col + 1; (Cur).end_col = (Cur).col; }       \
    } while (0)

#define A (&P->ctx->arena)

static UArg *uarg_new(Parser *P, UArgKind k, Span sp)
{
    UArg *a = ARENA_NEW(A, UArg);
    a->kind = k;
    a->span = sp;
    return a;
}

/* uarg -> prefix body: the prefix sets the group; the span widens to it. */
static UArg *uarg_prefix(UArg *a, UGroup g, Span psp)
{
    a->group = g;
    a->prefix_span = psp;
    a->span = span_join(psp, a->span);
    return a;
}

/* Appends x to the n-element list v, whose capacity is n rounded up to a
 * power of two (so that a long list is copied O(log n) times, not n). */
static void *list_add(Parser *P, void *v, int n, void *x)
{
    void **l = v;
    if (n == 0 || (n & (n - 1)) == 0) l = arena_grow(A, l, sizeof(void *) * (size_t)n, sizeof(void *) * (size_t)(n ? 2 * n : 1));
    l[n] = x;
    return l;
}

/* n->depth from its operands' (and args'); past AST_MAX_DEPTH an error, once. */
static Ast *deepen(Parser *P, Ast *n)
{
    int d = 0;
    const Ast *ops[3] = {n->a, n->b, n->c};
    for (int i = 0; i < 3; i++) if (ops[i] && ops[i]->depth > d) d = ops[i]->depth;
    for (int i = 0; i < n->args.n; i++) if (n->args.v[i]->depth > d) d = n->args.v[i]->depth;
    n->depth = d + 1;
    if (n->depth > AST_MAX_DEPTH && !P->too_deep) {
        diag_error(P->ctx, n->span, "expression nested more than %d deep, the most a model file may have",
                   AST_MAX_DEPTH);
        P->too_deep = true;
    }
    return n;
}

/* A postfix/infix node with operands a, b. */
static Ast *mk2(Parser *P, AstKind k, Span sp, int op, Ast *x, Ast *y)
{
    Ast *n = ast_new(P, k, sp);
    n->op = op;
    n->a = x;
    n->b = y;
    return deepen(P, n);
}
}

%token START_EXPR START_MODEL
%token END 0 "end of input"
%token NL "end of line"
%token <const char *> IDENT "identifier"
%token <long long> INT "integer"
%token <double> FLOAT "number"
%token <StrTok> STRING "string"
%token ARROW "'->'" QQ "'??'" EQ "'=='" NE "'!='" LE "'<='" GE "'>='" AND "'&&'" OR "'||'"
%token MODEL "'model'" DIM "'dim'" LET "'let'" PARAM "'param'" INPUT "'input'"
%token STATE "'state'" OUTPUT "'output'" REPEAT "'repeat'" LOAD "'load'"
%token TRUE "'true'" FALSE "'false'"

%type <UExpr *> uexpr uterms
%type <UTerm *> uterm
%type <UArg *> uarg ubody
%type <const char *> ushape_opt
%type <Ast *> stmt expr primary kwarg arg load_opt
%type <AstList> items args_opt args shape exprs load_shape_opt load_ops
%type <const char *> dtype_opt

%right '?' ':'
%right QQ
%left OR
%left AND
%left EQ NE
%left '<' '>' LE GE
%left '+' '-'
%left '*' '/' '%'
%precedence UNARY

%%

start:
    START_EXPR uexpr END     { P->uexpr = $2; }
  | START_MODEL items END    { P->prog = ARENA_NEW(A, Program); P->prog->items = $2; P->prog->src = P->src; }
  ;

/* ---------------- ueajsum ---------------- */

/* uexpr -> uterms [ '->' [SHAPE] ] */
uexpr:
    uterms                   { $$ = $1; $$->arrow = false; $$->rhs = ""; $$->span = @$; }
  | uterms ARROW ushape_opt  { $$ = $1; $$->arrow = true; $$->rhs = $3; $$->rhs_span = @3;
                               $$->arrow_span = @2; $$->span = @$; }
  ;

uterms:
    uterm                    { $$ = ARENA_NEW(A, UExpr); PtrVec v = {0}; vec_push(A, &v, $1);
                               $$->terms = (UTerm **)v.v; $$->nterms = 1; }
  | uterms '+' uterm         { $$ = $1;
                               if ($$->nterms == UEAJSUM_MAX_TERMS) {
                                   if (!$$->overfull)
                                       diag_error(P->ctx, @3, "more than %d terms, the most one expression may have",
                                                  UEAJSUM_MAX_TERMS);
                                   $$->overfull = true;
                               } else {
                                   $$->terms = list_add(P, $$->terms, $$->nterms, $3);
                                   $$->nterms++;
                               } }
  ;

uterm:
    uarg                     { $$ = ARENA_NEW(A, UTerm); $$->args = ARENA_ARRAY(A, UArg *, 1);
                               $$->args[0] = $1; $$->nargs = 1; $$->span = @$; }
  | uterm ',' uarg           { $$ = $1; $$->span = @$;
                               if ($$->nargs == UEAJSUM_MAX_OPS) {
                                   if (!$$->overfull)
                                       diag_error(P->ctx, @3, "more than %d operands in one term, the most it may have",
                                                  UEAJSUM_MAX_OPS);
                                   $$->overfull = true;
                               } else {
                                   $$->args = list_add(P, $$->args, $$->nargs, $3);
                                   $$->nargs++;
                               } }
  ;

/* uarg -> [ '*' | '&' ] ubody */
uarg:
    ubody                    { $$ = $1; }
  | '*' ubody                { $$ = uarg_prefix($2, UG_PARAM, @1); }
  | '&' ubody                { $$ = uarg_prefix($2, UG_LORA, @1); }
  | '*' '*' ubody            { diag_error(P->ctx, @2, "a '*' or '&' prefix may appear only once"); $$ = $3; }
  | '*' '&' ubody            { diag_error(P->ctx, @2, "a '*' or '&' prefix may appear only once"); $$ = $3; }
  | '&' '*' ubody            { diag_error(P->ctx, @2, "a '*' or '&' prefix may appear only once"); $$ = $3; }
  | '&' '&' ubody            { diag_error(P->ctx, @2, "a '*' or '&' prefix may appear only once"); $$ = $3; }
  ;

/* ubody -> SHAPE | NAME '=' [SHAPE] | '[' INT ']' | '{' NAME '}' | <empty: a scalar> */
ubody:
    %empty                   { $$ = uarg_new(P, UARG_POS, @$); $$->letters = ""; $$->letters_span = @$; }
  | IDENT                    { $$ = uarg_new(P, UARG_POS, @$); $$->letters = $1; $$->letters_span = @1; }
  | IDENT '=' ushape_opt     { $$ = uarg_new(P, UARG_NAMED, @$); $$->name = $1; $$->name_span = @1;
                               $$->letters = $3; $$->letters_span = @3; }
  | '[' INT ']'              { $$ = uarg_new(P, UARG_REF_INDEX, @$); $$->index = (long)$2; $$->name_span = @2; }
  | '[' IDENT ']'            { diag_error(P->ctx, @2, "invalid index '%s': expected an integer slot number", $2);
                               $$ = uarg_new(P, UARG_REF_INDEX, @$); $$->index = -1; }
  | '[' ']'                  { diag_error(P->ctx, @$, "invalid index: expected an integer slot number inside '[]'");
                               $$ = uarg_new(P, UARG_REF_INDEX, @$); $$->index = -1; }
  | '[' '-' INT ']'          { diag_error(P->ctx, span_join(@2, @3), "invalid index: a slot number is never negative");
                               $$ = uarg_new(P, UARG_REF_INDEX, @$); $$->index = -1; }
  | INT                      { diag_error(P->ctx, @1, "'%lld' is not an axis: axes are letters (a slot reference is written [%lld])",
                                          $1, $1);
                               $$ = uarg_new(P, UARG_POS, @$); $$->letters = ""; }
  | '{' IDENT '}'            { $$ = uarg_new(P, UARG_REF_NAME, @$); $$->name = $2; $$->name_span = @2; }
  ;

ushape_opt:
    %empty                   { $$ = ""; }
  | IDENT                    { $$ = $1; }
  ;

/* ---------------- model files ---------------- */

items:
    %empty                   { $$ = (AstList){0}; }
  | items NL                 { $$ = $1; }
  | items ';'                { $$ = $1; }
  | items stmt NL            { $$ = $1; if ($2) ast_push(A, &$$, $2); }
  | items stmt ';'           { $$ = $1; if ($2) ast_push(A, &$$, $2); }
  | items error NL           { $$ = $1; yyerrok;
                               /* brackets left open by the bad statement are forgotten */
                               while (P->nopen > 0 && P->nopen <= 32 && P->open_ch[P->nopen - 1] != '{') P->nopen--; }
  ;

stmt:
    /* stmt -> 'model' NAME */
    MODEL IDENT              { $$ = ast_new(P, A_MODEL, @$); $$->name = $2; $$->name_span = @2; }
    /* stmt -> 'dim' NAME '=' expr */
  | DIM IDENT '=' expr       { $$ = ast_new(P, A_DIM, @$); $$->name = $2; $$->name_span = @2; $$->a = $4; }
    /* stmt -> 'let' NAME '=' expr */
  | LET IDENT '=' expr       { $$ = ast_new(P, A_LET, @$); $$->name = $2; $$->name_span = @2; $$->a = $4; }
    /* stmt -> 'param' NAME shape [':' DTYPE] ['=' 'load' expr [shape] {op(args)}] */
  | PARAM IDENT shape dtype_opt load_opt
                             { $$ = ast_new(P, A_PARAM, @$); $$->name = $2; $$->name_span = @2;
                               $$->args = $3; $$->dtype = $4; $$->dtype_span = @4;
                               if ($5) { $$->load = $5->a; $$->load_shape = $5->args; $$->load_ops = $5->load_ops; } }
    /* stmt -> 'input' NAME shape [':' DTYPE] */
  | INPUT IDENT shape dtype_opt
                             { $$ = ast_new(P, A_INPUT, @$); $$->name = $2; $$->name_span = @2;
                               $$->args = $3; $$->dtype = $4; $$->dtype_span = @4; }
    /* stmt -> 'state' NAME shape [':' DTYPE] */
  | STATE IDENT shape dtype_opt
                             { $$ = ast_new(P, A_STATE, @$); $$->name = $2; $$->name_span = @2;
                               $$->args = $3; $$->dtype = $4; $$->dtype_span = @4; }
    /* stmt -> 'output' NAME [':' DTYPE] */
  | OUTPUT IDENT dtype_opt   { $$ = ast_new(P, A_OUTPUT, @$); $$->name = $2; $$->name_span = @2;
                               $$->dtype = $3; $$->dtype_span = @3; }
    /* stmt -> NAME '=' expr */
  | IDENT '=' expr           { $$ = ast_new(P, A_ASSIGN, @$); $$->name = $1; $$->name_span = @1; $$->a = $3; }
    /* stmt -> 'repeat' NAME '<' expr '{' items '}' */
  | REPEAT IDENT '<' expr '{' items '}'
                             { $$ = ast_new(P, A_REPEAT, @$); $$->name = $2; $$->name_span = @2;
                               $$->a = $4; $$->args = $6; }
  ;

shape:
    '[' exprs ']'            { $$ = $2; }
  | '[' ']'                  { $$ = (AstList){0}; }
  ;

dtype_opt:
    %empty                   { $$ = NULL; }
  | ':' IDENT                { $$ = $2; @$ = @2; }
  ;

/* load_opt -> '=' 'load' expr [shape] { NAME '(' args ')' } */
load_opt:
    %empty                   { $$ = NULL; }
  | '=' LOAD expr load_shape_opt load_ops
                             { $$ = ast_new(P, A_CALL, @$); $$->a = $3; $$->args = $4; $$->load_ops = $5; }
  ;

load_shape_opt:
    %empty                   { $$ = (AstList){0}; }
  | shape                    { $$ = $1; }
  ;

load_ops:
    %empty                   { $$ = (AstList){0}; }
  | load_ops IDENT '(' args_opt ')'
                             { $$ = $1; Ast *c = ast_new(P, A_CALL, span_join(@2, @5)); c->name = $2;
                               c->name_span = @2; c->args = $4; ast_push(A, &$$, c); }
  ;

exprs:
    expr                     { $$ = (AstList){0}; ast_push(A, &$$, $1); }
  | exprs ',' expr           { $$ = $1; ast_push(A, &$$, $3); }
  ;

expr:
    primary                  { $$ = $1; }
  | expr '?' expr ':' expr   { $$ = mk2(P, A_COND, @$, '?', $1, $3); $$->c = $5; deepen(P, $$); }
  | expr QQ expr             { $$ = mk2(P, A_DEFAULT, @$, TOK_QQ, $1, $3); }
  | expr OR expr             { $$ = mk2(P, A_BINARY, @$, TOK_OR, $1, $3); }
  | expr AND expr            { $$ = mk2(P, A_BINARY, @$, TOK_AND, $1, $3); }
  | expr EQ expr             { $$ = mk2(P, A_BINARY, @$, TOK_EQ, $1, $3); }
  | expr NE expr             { $$ = mk2(P, A_BINARY, @$, TOK_NE, $1, $3); }
  | expr '<' expr            { $$ = mk2(P, A_BINARY, @$, '<', $1, $3); }
  | expr '>' expr            { $$ = mk2(P, A_BINARY, @$, '>', $1, $3); }
  | expr LE expr             { $$ = mk2(P, A_BINARY, @$, TOK_LE, $1, $3); }
  | expr GE expr             { $$ = mk2(P, A_BINARY, @$, TOK_GE, $1, $3); }
  | expr '+' expr            { $$ = mk2(P, A_BINARY, @$, '+', $1, $3); }
  | expr '-' expr            { $$ = mk2(P, A_BINARY, @$, '-', $1, $3); }
  | expr '*' expr            { $$ = mk2(P, A_BINARY, @$, '*', $1, $3); }
  | expr '/' expr            { $$ = mk2(P, A_BINARY, @$, '/', $1, $3); }
  | expr '%' expr            { $$ = mk2(P, A_BINARY, @$, '%', $1, $3); }
  | '-' expr %prec UNARY     { $$ = mk2(P, A_UNARY, @$, '-', $2, NULL); }
  | '!' expr %prec UNARY     { $$ = mk2(P, A_UNARY, @$, '!', $2, NULL); }
  ;

primary:
    INT                      { $$ = ast_new(P, A_NUM, @$); $$->num = (double)$1; $$->is_int = true; }
  | FLOAT                    { $$ = ast_new(P, A_NUM, @$); $$->num = $1; }
  | STRING                   { $$ = ast_new(P, A_STR, @$); $$->str = $1.s; $$->str_plain = $1.plain;
                               $$->str_inner = @1; $$->str_inner.col++; $$->str_inner.end_col--; }
  | TRUE                     { $$ = ast_new(P, A_BOOL, @$); $$->num = 1; }
  | FALSE                    { $$ = ast_new(P, A_BOOL, @$); $$->num = 0; }
  | IDENT                    { $$ = ast_new(P, A_NAME, @$); $$->name = $1; $$->name_span = @1; }
  | IDENT '(' args_opt ')'   { $$ = ast_new(P, A_CALL, @$); $$->name = $1; $$->name_span = @1; $$->args = $3;
                               deepen(P, $$); }
  | primary '.' IDENT        { $$ = mk2(P, A_FIELD, @$, '.', $1, NULL); $$->name = $3; $$->name_span = @3; }
  | primary '.' IDENT '(' args_opt ')'
                             { $$ = mk2(P, A_METHOD, @$, '.', $1, NULL); $$->name = $3; $$->name_span = @3;
                               $$->args = $5; deepen(P, $$); }
  | '(' expr ')'             { $$ = $2; }
  ;

args_opt:
    %empty                   { $$ = (AstList){0}; }
  | args                     { $$ = $1; }
  ;

args:
    arg                      { $$ = (AstList){0}; ast_push(A, &$$, $1); }
  | args ',' arg             { $$ = $1; ast_push(A, &$$, $3); }
  ;

arg:
    expr                     { $$ = $1; }
  | kwarg                    { $$ = $1; }
  ;

/* kwarg -> NAME '=' expr */
kwarg:
    IDENT '=' expr           { $$ = ast_new(P, A_KWARG, @$); $$->name = $1; $$->name_span = @1; $$->a = $3;
                               deepen(P, $$); }
  ;

%%

static void ueaj_yyerror(Span *loc, Parser *P, const char *msg)
{
    if (!strcmp(msg, "memory exhausted")) /* Bison's stack: YYMAXDEPTH entries */
        diag_error(P->ctx, *loc, "nested too deeply: more than 10000 brackets, operators or operands open at once");
    else
        diag_error(P->ctx, *loc, "%s", msg);
}

/* "unexpected X, expected Y or Z", with the expected set computed by LAC.
 * Long expected sets are summarised ("an expression"); an unclosed bracket
 * gets a note pointing at the bracket it should close. */
static int yyreport_syntax_error(const yypcontext_t *yyctx, Parser *P)
{
    enum { NEXP = 64 };
    yysymbol_kind_t exp[NEXP];
    int n = yypcontext_expected_tokens(yyctx, exp, NEXP);
    yysymbol_kind_t got = yypcontext_token(yyctx);
    Span loc = *yypcontext_location(yyctx);
    Buf b;
    buf_init(&b);
    const char *eof = P->mode == 0 ? "end of expression" : "end of file";
    if (got == YYSYMBOL_YYEOF) buf_printf(&b, "unexpected %s", eof);
    else if (got == YYSYMBOL_IDENT || got == YYSYMBOL_INT || got == YYSYMBOL_FLOAT)
        buf_printf(&b, "unexpected %s '%s'", yysymbol_name(got), span_text(P->ctx, loc));
    else buf_printf(&b, "unexpected %s", yysymbol_name(got));
    bool expr = false, closes = false;
    char want = P->nopen > 0 && P->nopen <= 32 ? (char)(P->open_ch[P->nopen - 1] == '(' ? ')' :
                                                        P->open_ch[P->nopen - 1] == '[' ? ']' : '}') : 0;
    for (int i = 0; i < n; i++) {
        const char *nm = yysymbol_name(exp[i]);
        if (exp[i] == YYSYMBOL_INT || exp[i] == YYSYMBOL_FLOAT) expr = true;
        if (want && nm[0] == '\'' && nm[1] == want && nm[2] == '\'') closes = true;
    }
    if (n > 0 && n <= 5) {
        buf_puts(&b, ", expected ");
        for (int i = 0; i < n; i++)
            buf_printf(&b, "%s%s", i == 0 ? "" : i == n - 1 ? " or " : ", ",
                       exp[i] == YYSYMBOL_YYEOF ? eof : yysymbol_name(exp[i]));
    } else if (closes) {
        buf_printf(&b, ", expected '%c'", want);
    } else if (expr) {
        buf_puts(&b, ", expected an expression");
    }
    Diag *d = diag_error(P->ctx, loc, "%s", b.p);
    if (closes) diag_note(P->ctx, d, P->open_at[P->nopen - 1], "to match this '%c'", P->open_ch[P->nopen - 1]);
    buf_free(&b);
    return 0;
}

void ast_push(Arena *a, AstList *l, Ast *x)
{
    if (l->n == l->cap) {
        int cap = l->cap ? l->cap * 2 : 4;
        l->v = arena_grow(a, l->v, sizeof(Ast *) * (size_t)l->n, sizeof(Ast *) * (size_t)cap);
        l->cap = cap;
    }
    l->v[l->n++] = x;
}

Ast *ast_new(Parser *P, AstKind k, Span sp)
{
    Ast *n = ARENA_NEW(A, Ast);
    n->kind = k;
    n->span = sp;
    return n;
}

static int run_parser(UeajCtx *ctx, const Source *src, Parser *P, int mode)
{
    memset(P, 0, sizeof *P);
    P->ctx = ctx;
    P->src = src;
    P->cur = P->line_start = src->text;
    P->lim = src->text + src->len;
    P->line = 1;
    P->mode = mode;
    int before = ctx->nerrors;
    int r = ueaj_yyparse(P);
    return (r != 0 || ctx->nerrors > before) ? -1 : 0;
}

UExpr *parse_ueajsum(UeajCtx *ctx, const Source *src)
{
    Parser P;
    if (run_parser(ctx, src, &P, 0) != 0) return NULL;
    return P.uexpr;
}

Program *parse_model(UeajCtx *ctx, const Source *src)
{
    Parser P;
    if (run_parser(ctx, src, &P, 1) != 0) return NULL;
    return P.prog;
}
