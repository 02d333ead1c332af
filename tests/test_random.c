/* test_random.c - random ueajsum expressions through `ueajc eval`, checked
 * against the float64 interpreter in support_ref.c.
 *
 * A generator with a fixed seed (the same expressions on every run) makes
 * N_EXPR expressions that use what the language has: letters of both cases,
 * 1-3 '+' terms of 1-7 operands, repeated letters (diagonals), result
 * letters some terms lack (broadcast) or no term has (size 1), size-1 axes
 * broadcast against a larger size of the same letter, scalar operands
 * (empty letter strings), scalar results (no '->', or an empty right-hand
 * side), parameters ('*'), named arguments and references ([i], {name}),
 * spaces around ',', '+' and '->'.  Sizes are 1..5 and every term walks at
 * most MAX_WALK index assignments, so the reference stays fast.
 *
 * Each expression runs as the real CLI does (posix_spawn of $UEAJC):
 *   f32:  .npy f32 inputs, result .npy f32;
 *   bf16: every argument stored as bf16 - either f32 .npy files with
 *         `--dtype NAME=bf16` or bf16 .safetensors files - and a bf16
 *         result (--out-dtype bf16, or left to promotion, which must give
 *         bf16), written to .safetensors;
 *   unit: the first N_UNIT expressions again in f32 with --unit, where each
 *         term is divided by sqrt(product of its distinct contracted sizes).
 * EDGES, a list of hand-picked corner cases (scalar-only expressions, a
 * size-1 diagonal, 7-operand chains...), runs in all of those modes.
 * The reference runs on the values actually stored (inputs rounded to f32,
 * or to bf16), in float64.  Expressions listed in KNOWN_BUGS (compiler bugs
 * reported to the lead) still run and are reported as KNOWN FAILURE without
 * failing the test.
 *
 * Tolerance, per element (llm.c style: an absolute bound from the size of
 * the sum, plus a relative one for the final rounding):
 *   f32:   |got - ref| <= 4 * eps32 * (nprod + nops + 2) * sum|products|
 *          (nprod: products summed into the element over all terms; nops:
 *          the most operands in one term, one rounding per multiply and per
 *          pairwise intermediate; +2 for the scale and the final add)
 *   bf16:  the f32 bound + 2^-8 * (|ref| + f32 bound): half an ulp of bf16.
 * On failure: the expression, the command, the first mismatches, the max
 * difference and ueajc's stderr.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <float.h>
#include <math.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "dtype.h"
#include "support_ref.h"
#include "tensorio.h"

extern char **environ;

#ifndef N_EXPR             /* -DN_EXPR=2000 -DRANDOM_SEED=7 for a longer, different search */
#define N_EXPR    200
#endif
#ifndef N_UNIT
#define N_UNIT    30
#endif
#ifndef RANDOM_SEED
#define RANDOM_SEED 0x5EED0001ull
#endif
#define MAX_DECL  24
#define MAX_OPS   7
#define MAX_TERMS 3
#define MAX_WALK  3000   /* index assignments one term may walk */

/* ---- a small deterministic PRNG (splitmix64) ------------------------- */
static uint64_t rng_state;
static uint64_t rnd64(void)
{
    uint64_t z = (rng_state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}
static int rnd(int n) { return (int)(rnd64() % (uint64_t)n); }          /* [0, n) */
static int chance(double p) { return (double)(rnd64() >> 11) / 9007199254740992.0 < p; }

/* ---- expressions ------------------------------------------------------ */
typedef struct Decl {
    char     letters[REF_MAX_RANK + 1];
    int64_t  shape[REF_MAX_RANK];
    int64_t  numel;
    char     name[8];        /* "" for a positional argument */
    int      slot;           /* positional: its slot */
    int      param;          /* declared with '*' */
    double  *v32;            /* the values, as stored in f32 */
    double  *v16;            /* the same values rounded to bf16 */
} Decl;

typedef struct Expr {
    char   text[1024];
    Decl   decl[MAX_DECL];
    int    ndecl, nslots;
    int    nterms;
    int    nops[MAX_TERMS];
    int    op[MAX_TERMS][MAX_OPS];   /* index into decl */
    char   out[REF_MAX_RANK + 1];
    int64_t size[128];               /* letter sizes */
} Expr;

static const char POOL[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
static const char *const NAMES[] = {"x", "w", "b", "Q", "k2", "v_1", "gate", "up"};

/* Does every term have each of its letters at the letter's full size in
 * at least one operand?  (Then size-1 axes only broadcast, and a letter's
 * size is the same in every term.) */
static int full_size_everywhere(const Expr *e)
{
    for (int t = 0; t < e->nterms; t++)
        for (int k = 0; k < e->nops[t]; k++) {
            const Decl *d = &e->decl[e->op[t][k]];
            for (int a = 0; d->letters[a]; a++) {
                unsigned char c = (unsigned char)d->letters[a];
                int found = 0;
                for (int k2 = 0; k2 < e->nops[t] && !found; k2++) {
                    const Decl *d2 = &e->decl[e->op[t][k2]];
                    for (int a2 = 0; d2->letters[a2]; a2++)
                        if ((unsigned char)d2->letters[a2] == c && d2->shape[a2] == e->size[c]) found = 1;
                }
                if (!found) return 0;
            }
        }
    return 1;
}

static int64_t term_walk(const Expr *e, int t)
{
    int seen[128] = {0};
    int64_t n = 1;
    for (const char *p = e->out; *p; p++) { seen[(unsigned char)*p] = 1; n *= e->size[(unsigned char)*p] ? e->size[(unsigned char)*p] : 1; }
    for (int k = 0; k < e->nops[t]; k++)
        for (const char *p = e->decl[e->op[t][k]].letters; *p; p++)
            if (!seen[(unsigned char)*p]) { seen[(unsigned char)*p] = 1; n *= e->size[(unsigned char)*p]; }
    return n;
}

static void append(char *buf, size_t cap, const char *s)
{
    size_t n = strlen(buf);
    snprintf(buf + n, cap - n, "%s", s);
}

/* Values: uniform in [-2, 2), rounded to f32; and again to bf16. */
static void fill_values(Expr *e)
{
    for (int i = 0; i < e->ndecl; i++) {
        Decl *d = &e->decl[i];
        d->numel = 1;
        for (int a = 0; d->letters[a]; a++) d->numel *= d->shape[a];
        d->v32 = malloc(sizeof(double) * (size_t)d->numel);
        d->v16 = malloc(sizeof(double) * (size_t)d->numel);
        for (int64_t q = 0; q < d->numel; q++) {
            float f = (float)((double)(rnd64() >> 11) / 9007199254740992.0 * 4.0 - 2.0);
            d->v32[q] = f;
            d->v16[q] = bf16_to_f32(f32_to_bf16(f));
        }
    }
}

static void gen_expr(Expr *e)
{
    memset(e, 0, sizeof *e);
    /* the letters of this expression and their sizes */
    char letters[8];
    int nl = 1 + rnd(6);
    for (int i = 0; i < nl; i++) {
        char c;
        do c = POOL[rnd(52)]; while (memchr(letters, c, (size_t)i));
        letters[i] = c;
        e->size[(unsigned char)c] = chance(0.1) ? 1 : 2 + rnd(4);
    }
    int used_names = 0;
    e->nterms = chance(0.5) ? 1 : chance(0.6) ? 2 : 3;
    for (int t = 0; t < e->nterms; t++) {
        static const int nops_pick[] = {1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 5, 6, 7};
        e->nops[t] = nops_pick[rnd((int)(sizeof nops_pick / sizeof nops_pick[0]))];
        for (int k = 0; k < e->nops[t]; k++) {
            if (e->ndecl > 0 && (e->ndecl >= MAX_DECL || chance(0.12))) {   /* a reference */
                e->op[t][k] = rnd(e->ndecl);
                continue;
            }
            Decl *d = &e->decl[e->ndecl];
            int rank = chance(0.08) ? 0 : 1 + rnd(chance(0.7) ? 3 : 4);
            for (int a = 0; a < rank; a++) {
                if (a > 0 && chance(0.12)) d->letters[a] = d->letters[rnd(a)];   /* diagonal */
                else d->letters[a] = letters[rnd(nl)];
            }
            d->param = chance(0.2);
            if (used_names < 8 && chance(0.2)) snprintf(d->name, sizeof d->name, "%s", NAMES[used_names++]);
            else d->slot = e->nslots++;
            e->op[t][k] = e->ndecl++;
        }
    }
    /* the result letters */
    int mode = rnd(100);
    int arrow = mode >= 12;
    if (mode >= 20) {
        char have[64] = "";
        for (int i = 0; i < e->ndecl; i++)
            for (const char *p = e->decl[i].letters; *p; p++)
                if (!strchr(have, *p)) { size_t n = strlen(have); have[n] = *p; have[n + 1] = 0; }
        int n = 0;
        for (const char *p = have; *p && n < 6; p++)
            if (chance(0.55)) e->out[n++] = *p;
        if (n < 6 && chance(0.1)) {                  /* a letter no term has: size 1 */
            char c;
            do c = POOL[rnd(52)]; while (e->size[(unsigned char)c] || memchr(e->out, c, (size_t)n));
            e->out[n++] = c;
        }
        for (int i = n - 1; i > 0; i--) { int j = rnd(i + 1); char x = e->out[i]; e->out[i] = e->out[j]; e->out[j] = x; }
    }
    /* keep every term small */
    for (int t = 0; t < e->nterms; t++)
        while (term_walk(e, t) > MAX_WALK) {
            int best = 0;
            for (int c = 0; c < 128; c++) if (e->size[c] > e->size[best]) best = c;
            e->size[best]--;
        }
    for (int i = 0; i < e->ndecl; i++) {
        Decl *d = &e->decl[i];
        for (int a = 0; d->letters[a]; a++) d->shape[a] = e->size[(unsigned char)d->letters[a]];
    }
    /* size-1 axes: a letter of one declaration shrunk to 1 where another
     * operand of every term that uses the declaration keeps the full size */
    for (int i = 0; i < e->ndecl; i++) {
        Decl *d = &e->decl[i];
        for (int a = 0; d->letters[a]; a++) {
            if (d->shape[a] == 1 || !chance(0.12)) continue;
            int64_t keep[REF_MAX_RANK];
            memcpy(keep, d->shape, sizeof keep);
            for (int b = 0; d->letters[b]; b++) if (d->letters[b] == d->letters[a]) d->shape[b] = 1;
            if (!full_size_everywhere(e)) memcpy(d->shape, keep, sizeof keep);
        }
    }
    fill_values(e);
    /* the text: declarations where first used, references afterwards */
    int declared[MAX_DECL] = {0};
    for (int t = 0; t < e->nterms; t++) {
        if (t > 0) append(e->text, sizeof e->text, chance(0.2) ? " + " : "+");
        for (int k = 0; k < e->nops[t]; k++) {
            const Decl *d = &e->decl[e->op[t][k]];
            char piece[64];
            if (k > 0) append(e->text, sizeof e->text, chance(0.1) ? ", " : ",");
            if (declared[e->op[t][k]]) {
                if (d->name[0]) snprintf(piece, sizeof piece, "{%s}", d->name);
                else snprintf(piece, sizeof piece, "[%d]", d->slot);
            } else {
                declared[e->op[t][k]] = 1;
                snprintf(piece, sizeof piece, "%s%s%s%s", d->param ? "*" : "", d->name, d->name[0] ? "=" : "",
                         d->letters);
            }
            append(e->text, sizeof e->text, piece);
        }
    }
    if (arrow) {
        append(e->text, sizeof e->text, chance(0.15) ? " -> " : "->");
        append(e->text, sizeof e->text, e->out);
    }
}

/* A hand-written expression: positional operands only (no names, no
 * references), letter c of size 2 + c % 3 unless `shapes` gives the
 * operands' shapes ("1x3;3;" : one operand per ';', dims joined by 'x'). */
static void gen_fixed(Expr *e, const char *text, const char *shapes)
{
    memset(e, 0, sizeof *e);
    snprintf(e->text, sizeof e->text, "%s", text);
    const char *arrow = strstr(text, "->");
    if (arrow)
        for (const char *p = arrow + 2; *p; p++) if (*p != ' ') e->out[strlen(e->out)] = *p;
    const char *end = arrow ? arrow : text + strlen(text);
    e->nterms = 1;
    e->nops[0] = 1;
    e->op[0][0] = e->ndecl++;
    for (const char *p = text; p < end; p++) {
        if (*p == ' ') continue;
        if (*p == '+' || *p == ',') {
            if (*p == '+') e->nterms++;
            int t = e->nterms - 1;
            e->op[t][e->nops[t]++] = e->ndecl++;
            continue;
        }
        Decl *d = &e->decl[e->ndecl - 1];
        d->letters[strlen(d->letters)] = *p;
    }
    for (int i = 0; i < e->ndecl; i++) {
        Decl *d = &e->decl[i];
        d->slot = e->nslots++;
        for (int a = 0; d->letters[a]; a++) {
            unsigned char c = (unsigned char)d->letters[a];
            d->shape[a] = 2 + c % 3;
        }
    }
    for (int i = 0; shapes && *shapes; i++) {
        Decl *d = &e->decl[i];
        for (int a = 0; *shapes && *shapes != ';'; a++) {
            char *next;
            d->shape[a] = strtoll(shapes, &next, 10);
            shapes = *next == 'x' ? next + 1 : next;
        }
        if (*shapes == ';') shapes++;
    }
    for (int i = 0; i < e->ndecl; i++)
        for (int a = 0; e->decl[i].letters[a]; a++) {
            unsigned char c = (unsigned char)e->decl[i].letters[a];
            if (e->decl[i].shape[a] > e->size[c]) e->size[c] = e->decl[i].shape[a];
        }
    fill_values(e);
}

static void free_expr(Expr *e)
{
    for (int i = 0; i < e->ndecl; i++) { free(e->decl[i].v32); free(e->decl[i].v16); }
}

/* ---- running ueajc ---------------------------------------------------- */
typedef enum Mode { M_F32, M_BF16_FLAG, M_BF16_FILE, M_UNIT } Mode;
static const char *const MODE_NAME[] = {"f32", "bf16 (--dtype)", "bf16 (.safetensors inputs)", "f32 --unit"};

static char tmpdir[256];

static const char *ueajc_path(void)
{
    static char path[1024];
    const char *p = getenv("UEAJC");
    if (p && *p) return p;
    const char *root = getenv("UEAJ_ROOT");
    snprintf(path, sizeof path, "%s/build/ueajc", root && *root ? root : ".");
    return path;
}

static int write_input(const Decl *d, int idx, int bf16_file, char *path, size_t cap)
{
    HostTensor h = {0};
    TioError err;
    h.rank = (int)strlen(d->letters);
    memcpy(h.shape, d->shape, sizeof(int64_t) * (size_t)h.rank);
    h.name = "t";
    size_t n = (size_t)d->numel;
    h.dtype = bf16_file ? DT_BF16 : DT_F32;
    h.nbytes = n * dtype_size(h.dtype);
    h.data = malloc(h.nbytes ? h.nbytes : 1);
    h.view = 1;
    for (size_t q = 0; q < n; q++) dtype_store(h.data, h.dtype, q, bf16_file ? d->v16[q] : d->v32[q]);
    snprintf(path, cap, "%s/in%d.%s", tmpdir, idx, bf16_file ? "safetensors" : "npy");
    int r;
    if (bf16_file) {
        const HostTensor *list[1] = {&h};
        r = tio_write_safetensors(path, list, 1, &err);
    } else {
        r = tio_write_npy(path, &h, &err);
    }
    free(h.data);
    if (r != 0) fprintf(stderr, "test_random: %s\n", err.msg);
    return r;
}

/* Runs argv with stdout and stderr into log; returns the exit status
 * (128 + N for signal N), or -1 if it could not be started.  A failed start
 * is retried for a few seconds: in a shared work tree the binary may be
 * being relinked by a concurrent `make` (ENOENT, ETXTBSY). */
static int run_cmd(char *const *argv, const char *log)
{
    pid_t pid;
    int r = -1;
    for (int attempt = 0; attempt < 20; attempt++) {
        posix_spawn_file_actions_t fa;
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_addopen(&fa, 1, log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        posix_spawn_file_actions_adddup2(&fa, 1, 2);
        r = posix_spawn(&pid, argv[0], &fa, NULL, argv, environ);
        posix_spawn_file_actions_destroy(&fa);
        if (r == 0) break;
        usleep(250000);
    }
    if (r != 0) {
        fprintf(stderr, "test_random: cannot run %s: %s\n", argv[0], strerror(r));
        return -1;
    }
    int st;
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR) return -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + (WIFSIGNALED(st) ? WTERMSIG(st) : 0);
}

static void print_file(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) return;
    char line[512];
    int n = 0;
    while (fgets(line, sizeof line, f) && n++ < 20) fprintf(stderr, "    | %s", line);
    fclose(f);
}

/* Reads the result file into doubles; returns 0 and fills rank/shape/dtype. */
static int read_result(const char *path, int *rank, int64_t *shape, DType *dt, double **vals)
{
    TioError err;
    HostTensor h = {0};
    SafeTensors st = {0};
    const HostTensor *t = &h;
    int is_st = strstr(path, ".safetensors") != NULL;
    if (is_st) {
        if (tio_st_open(path, &st, &err) != 0 || st.count != 1) {
            fprintf(stderr, "    cannot read %s: %s\n", path, st.count != 1 ? "not one tensor" : err.msg);
            if (st.map) tio_st_close(&st);
            return -1;
        }
        t = &st.tensors[0];
    } else if (tio_read_npy(path, &h, &err) != 0) {
        fprintf(stderr, "    cannot read %s: %s\n", path, err.msg);
        return -1;
    }
    *rank = t->rank;
    memcpy(shape, t->shape, sizeof(int64_t) * (size_t)t->rank);
    *dt = t->dtype;
    int64_t n = tio_numel(t);
    *vals = malloc(sizeof(double) * (size_t)(n > 0 ? n : 1));
    for (int64_t q = 0; q < n; q++) (*vals)[q] = dtype_load(t->data, t->dtype, (size_t)q);
    if (is_st) tio_st_close(&st); else tio_tensor_free(&h);
    return 0;
}

/* Runs one expression in one mode; returns 1 if it passed.  *worst gets
 * max |got - ref| / tolerance. */
static int check_expr(const Expr *e, int ei, Mode mode, const char *known_bug_note, double *worst)
{
    int bf16 = mode == M_BF16_FLAG || mode == M_BF16_FILE;
    int bf16_file = mode == M_BF16_FILE;
    char files[MAX_DECL][600], opts[MAX_DECL][64], outp[600], logp[600];
    char *argv[4 * MAX_DECL + 16];
    int ac = 0;
    argv[ac++] = (char *)ueajc_path();
    argv[ac++] = "eval";
    argv[ac++] = (char *)e->text;
    /* positional files in slot order, then named ones */
    int nf = 0, no = 0;
    for (int pass = 0; pass < 2; pass++)
        for (int i = 0; i < e->ndecl; i++) {
            const Decl *d = &e->decl[i];
            if ((pass == 0) != (d->name[0] == 0)) continue;
            char path[512];
            if (write_input(d, i, bf16_file, path, sizeof path) != 0) return 0;
            if (d->name[0]) snprintf(files[nf], sizeof files[nf], "%s=%s", d->name, path);
            else snprintf(files[nf], sizeof files[nf], "%s", path);
            argv[ac++] = files[nf++];
            if (mode == M_BF16_FLAG) {
                if (d->name[0]) snprintf(opts[no], sizeof opts[no], "%s=bf16", d->name);
                else snprintf(opts[no], sizeof opts[no], "%d=bf16", d->slot);
                argv[ac++] = "--dtype";
                argv[ac++] = opts[no++];
            }
        }
    /* positional slots are numbered in written order, so slot order = declaration order here */
    if (mode == M_UNIT) argv[ac++] = "--unit";
    int want_out_flag = mode == M_BF16_FLAG || (mode == M_BF16_FILE && ei % 2 == 0);
    if (want_out_flag) { argv[ac++] = "--out-dtype"; argv[ac++] = "bf16"; }
    snprintf(outp, sizeof outp, "%s/out.%s", tmpdir, bf16 ? "safetensors" : "npy");
    snprintf(logp, sizeof logp, "%s/log.txt", tmpdir);
    unlink(outp);
    argv[ac++] = "-o";
    argv[ac++] = outp;
    argv[ac] = NULL;

    /* the reference */
    RefOperand ops[MAX_TERMS][MAX_OPS];
    RefTerm terms[MAX_TERMS];
    for (int t = 0; t < e->nterms; t++) {
        for (int k = 0; k < e->nops[t]; k++) {
            const Decl *d = &e->decl[e->op[t][k]];
            ops[t][k] = (RefOperand){d->letters, d->shape, bf16 ? d->v16 : d->v32};
        }
        terms[t] = (RefTerm){ops[t], e->nops[t], 1.0};
    }
    if (mode == M_UNIT) {
        int64_t size[128];
        ref_letter_sizes(terms, e->nterms, size);
        for (int t = 0; t < e->nterms; t++) terms[t].scale = ref_unit_scale(&terms[t], e->out, size);
    }
    RefResult ref;
    ck_assert_msg(ref_einsum(terms, e->nterms, e->out, &ref) == 0, "reference failed on %s", e->text);

    int ok = 1;
    int rc = run_cmd(argv, logp);
    int rank = 0;
    int64_t shape[TIO_MAX_RANK];
    DType dt = DT_NONE;
    double *got = NULL;
    const char *why = NULL;
    if (rc != 0) why = "ueajc failed";
    else if (read_result(outp, &rank, shape, &dt, &got) != 0) why = "no readable result";
    else if (dt != (bf16 ? DT_BF16 : DT_F32)) why = "wrong result dtype";
    else if (rank != ref.rank || memcmp(shape, ref.shape, sizeof(int64_t) * (size_t)rank) != 0) why = "wrong result shape";
    *worst = 0;
    int nbad = 0;
    double maxdiff = 0;
    char detail[2048] = "";
    if (!why) {
        for (int64_t q = 0; q < ref.numel; q++) {
            double tol = 4.0 * FLT_EPSILON * (double)(ref.nprod + ref.max_ops + 2) * ref.absval[q];
            if (bf16) tol += ldexp(fabs(ref.val[q]) + tol, -8);
            double diff = fabs(got[q] - ref.val[q]);
            if (!(diff <= tol)) {
                if (nbad < 5) {
                    size_t l = strlen(detail);
                    snprintf(detail + l, sizeof detail - l, "    element %lld: got %.9g, reference %.9g, |diff| %.3g > tol %.3g\n",
                             (long long)q, got[q], ref.val[q], diff, tol);
                }
                nbad++;
            }
            if (diff > maxdiff || diff != diff) maxdiff = diff;
            if (tol > 0 && diff / tol > *worst) *worst = diff / tol;
        }
        if (nbad) why = "values differ";
    }
    if (why) {
        ok = 0;
        if (known_bug_note)
            fprintf(stderr, "KNOWN FAILURE (compiler bug, not counted: %s)\n", known_bug_note);
        fprintf(stderr, "%s random #%d [%s]: %s\n    expression: '%s'\n    command:", known_bug_note ? "known" : "FAIL", ei,
                MODE_NAME[mode], why, e->text);
        for (int i = 0; argv[i]; i++) fprintf(stderr, " '%s'", argv[i]);
        fprintf(stderr, "\n    exit status %d", rc);
        if (!rc && got) {
            fprintf(stderr, "; result dtype %s shape (", dtype_name(dt));
            for (int a = 0; a < rank; a++) fprintf(stderr, "%s%lld", a ? "," : "", (long long)shape[a]);
            fprintf(stderr, "), expected shape (");
            for (int a = 0; a < ref.rank; a++) fprintf(stderr, "%s%lld", a ? "," : "", (long long)ref.shape[a]);
            fprintf(stderr, ")");
        }
        fprintf(stderr, "\n");
        if (nbad) fprintf(stderr, "%s    %d of %lld elements differ; max |diff| %.3g\n", detail, nbad,
                          (long long)ref.numel, maxdiff);
        fprintf(stderr, "    ueajc output:\n");
        print_file(logp);
    }
    free(got);
    ref_result_free(&ref);
    return ok;
}

/* ---- the tests ---------------------------------------------------------- */

static void make_tmpdir(void)
{
    const char *base = getenv("TMPDIR");
    snprintf(tmpdir, sizeof tmpdir, "%s/ueaj_random_XXXXXX", base && *base ? base : "/tmp");
    ck_assert_msg(mkdtemp(tmpdir) != NULL, "mkdtemp %s: %s", tmpdir, strerror(errno));
}

static void remove_tmpdir(void)
{
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0) fprintf(stderr, "test_random: could not remove %s\n", tmpdir);
}

/* Known compiler bugs, reported to the lead: {expression, what is wrong}.
 * These expressions still run and are reported on every run as KNOWN
 * FAILURE (not counted as failures); once one passes, a note asks to remove
 * it.  Empty now: the one bug found ('', ',' and '+' crashed emit_source
 * on an empty source text) was fixed in e3afa93 and after it. */
static const struct { const char *text, *bug; } KNOWN_BUGS[] = {
    {NULL, NULL}   /* end */
};

static const char *known_bug(const char *text)
{
    for (size_t i = 0; KNOWN_BUGS[i].text; i++)
        if (!strcmp(KNOWN_BUGS[i].text, text)) return KNOWN_BUGS[i].bug;
    return NULL;
}

/* Runs expressions [from, to) in the given modes; asserts none failed. */
static void run_range(int from, int to, const Mode *modes, int nmodes)
{
    make_tmpdir();
    rng_state = RANDOM_SEED;
    int runs = 0, fails = 0, known = 0;
    double worst[4] = {0};
    char first[1100] = "";
    for (int i = 0; i < to; i++) {
        Expr e;
        gen_expr(&e);               /* always generated, so expression i is the same in every range */
        if (i >= from)
            for (int m = 0; m < nmodes; m++) {
                Mode mode = modes[m];
                if (mode == M_BF16_FLAG && i % 2) mode = M_BF16_FILE;
                double w = 0;
                runs++;
                const char *bug = known_bug(e.text);
                if (check_expr(&e, i, mode, bug, &w)) {
                    if (bug) fprintf(stderr, "note: known-failing '%s' now passes: remove it from KNOWN_BUGS\n", e.text);
                } else if (bug) {
                    known++;
                } else {
                    if (!fails) snprintf(first, sizeof first, "#%d [%s] %s", i, MODE_NAME[mode], e.text);
                    fails++;
                }
                if (w > worst[mode]) worst[mode] = w;
            }
        free_expr(&e);
    }
    remove_tmpdir();
    fprintf(stderr, "random %d..%d: %d runs, %d failed, %d known failures; largest |diff|/tol: f32 %.3g, bf16 %.3g/%.3g, unit %.3g\n",
            from, to - 1, runs, fails, known, worst[M_F32], worst[M_BF16_FLAG], worst[M_BF16_FILE], worst[M_UNIT]);
    ck_assert_msg(fails == 0, "%d of %d random runs failed (see stderr); first: %s", fails, runs, first);
}

static const Mode PLAIN[] = {M_F32, M_BF16_FLAG};
static const Mode UNIT[] = {M_UNIT};

START_TEST(test_random_0) { run_range(0, N_EXPR / 2, PLAIN, 2); }
END_TEST
START_TEST(test_random_1) { run_range(N_EXPR / 2, N_EXPR, PLAIN, 2); }
END_TEST
START_TEST(test_random_unit) { run_range(0, N_UNIT, UNIT, 1); }
END_TEST

/* Hand-picked corner cases, each run in f32, bf16 and f32 --unit. */
static const struct { const char *text, *shapes; } EDGES[] = {
    {"", NULL},                      /* one scalar operand, no arrow */
    {",", NULL},                     /* two scalars, no arrow */
    {"+", NULL},                     /* two scalar terms, no arrow */
    {",->", NULL},
    {"->i", NULL},                   /* a result letter no term has: size 1 */
    {",ij->i", NULL},
    {"ij,->", NULL},
    {"i,,j->ij", NULL},
    {"i+j->ij", NULL},
    {"i+j+->ji", NULL},
    {"ii->i", NULL},
    {"ii", NULL},
    {"iii->i", NULL},
    {"ii->", NULL},
    {"ij->ijk", NULL},
    {"ij,i->ij", "1x3;3"},           /* size-1 broadcast */
    {"ii,i->i", "1x1;3"},            /* a size-1 diagonal */
    {"aA,Aa->aA", NULL},             /* case-sensitive letters */
    {"ab,bc,cd,de,ef,fg,gh->ah", NULL},
    {"ab,bc,cd,de,ef,fg,ga", NULL},  /* a 7-operand ring, full contraction */
    {"abc,cde,efa->bdf", NULL},
};

START_TEST(test_random_edges)
{
    make_tmpdir();
    rng_state = 0x5EED0002ull;
    static const Mode modes[] = {M_F32, M_BF16_FLAG, M_BF16_FILE, M_UNIT};
    int runs = 0, fails = 0, known = 0;
    char first[1100] = "";
    for (size_t i = 0; i < sizeof EDGES / sizeof EDGES[0]; i++) {
        Expr e;
        gen_fixed(&e, EDGES[i].text, EDGES[i].shapes);
        const char *bug = known_bug(e.text);
        for (int m = 0; m < 4; m++) {
            double w = 0;
            runs++;
            int ok = check_expr(&e, 1000 + (int)i, modes[m], bug, &w);
            if (bug && !ok) {
                known++;
            } else if (bug) {
                fprintf(stderr, "note: known-failing '%s' [%s] now passes: remove it from KNOWN_BUGS\n", e.text,
                        MODE_NAME[modes[m]]);
            } else if (!ok) {
                if (!fails) snprintf(first, sizeof first, "'%s' [%s]", e.text, MODE_NAME[modes[m]]);
                fails++;
            }
        }
        free_expr(&e);
    }
    remove_tmpdir();
    fprintf(stderr, "random edges: %d runs, %d failed, %d known failures\n", runs, fails, known);
    ck_assert_msg(fails == 0, "%d of %d edge-case runs failed (see stderr); first: %s", fails, runs, first);
}
END_TEST

/* The interpreter itself, on hand-computed cases. */
START_TEST(test_reference)
{
    const double x[] = {1, 2, 3, 4, 5, 6};          /* 2x3 */
    const double w[] = {1, 0, 2, 1, 0, 1};           /* 3x2 */
    const double s[] = {10};
    const int64_t sx[] = {2, 3}, sw[] = {3, 2}, sd[] = {2, 2}, s1[] = {1, 3};
    RefResult r;
    /* matrix product: [[1*1+2*2+3*0, 1*0+2*1+3*1], [4+10+0, 0+5+6]] */
    RefOperand mm[] = {{"ij", sx, x}, {"jk", sw, w}};
    RefTerm t1 = {mm, 2, 1.0};
    ck_assert_int_eq(ref_einsum(&t1, 1, "ik", &r), 0);
    ck_assert_int_eq(r.rank, 2);
    ck_assert_int_eq(r.nprod, 3);
    ck_assert(r.val[0] == 5 && r.val[1] == 5 && r.val[2] == 14 && r.val[3] == 11);
    ref_result_free(&r);
    /* diagonal and trace of [[1,2],[3,4]] */
    RefOperand dg[] = {{"ii", sd, x}};
    RefTerm t2 = {dg, 1, 1.0};
    ck_assert_int_eq(ref_einsum(&t2, 1, "i", &r), 0);
    ck_assert(r.numel == 2 && r.val[0] == 1 && r.val[1] == 4);
    ref_result_free(&r);
    ck_assert_int_eq(ref_einsum(&t2, 1, "", &r), 0);
    ck_assert(r.rank == 0 && r.numel == 1 && r.val[0] == 5);
    ref_result_free(&r);
    /* two terms, the second broadcast over i; a scalar operand; a missing letter k (size 1) */
    RefOperand a[] = {{"ij", sx, x}}, b[] = {{"", NULL, s}, {"j", sw, w}};
    RefTerm t3[] = {{a, 1, 1.0}, {b, 2, 0.5}};      /* x[i][j] + 0.5*10*w[j] (w read as its first 3 values) */
    ck_assert_int_eq(ref_einsum(t3, 2, "ijk", &r), 0);
    ck_assert(r.rank == 3 && r.shape[0] == 2 && r.shape[1] == 3 && r.shape[2] == 1);
    ck_assert(r.val[0] == 1 + 5 * 1 && r.val[1] == 2 + 5 * 0 && r.val[5] == 6 + 5 * 2);
    ck_assert(r.absval[0] == 6);
    ref_result_free(&r);
    /* size-1 broadcast: (1,3) against (2,3) */
    RefOperand bc[] = {{"ij", sx, x}, {"ij", s1, w}};
    RefTerm t4 = {bc, 2, 1.0};
    ck_assert_int_eq(ref_einsum(&t4, 1, "ij", &r), 0);
    ck_assert(r.val[0] == 1 && r.val[1] == 0 && r.val[2] == 6 && r.val[3] == 4 && r.val[5] == 12);
    ref_result_free(&r);
    /* no arrow: a full contraction; --unit scale of ij,jk->ik with j = 3 */
    ck_assert_int_eq(ref_einsum(&t1, 1, "", &r), 0);
    ck_assert(r.val[0] == 5 + 5 + 14 + 11 && r.nprod == 12);
    ref_result_free(&r);
    int64_t size[128];
    ref_letter_sizes(&t1, 1, size);
    ck_assert(size['i'] == 2 && size['j'] == 3 && size['k'] == 2);
    ck_assert(fabs(ref_unit_scale(&t1, "ik", size) - 1 / sqrt(3.0)) < 1e-15);
    ck_assert(fabs(ref_unit_scale(&t2, "", size) - 1 / sqrt(2.0)) < 1e-15);    /* trace: n, not n^2 */
    /* a size that is neither 1 nor the letter's size */
    const int64_t bad[] = {2, 2};
    RefOperand bo[] = {{"ij", sx, x}, {"ij", bad, w}};
    RefTerm t5 = {bo, 2, 1.0};
    ck_assert_int_eq(ref_einsum(&t5, 1, "ij", &r), -1);
}
END_TEST

extern Suite *suite_random(void);
Suite *suite_random(void)
{
    Suite *s = suite_create("random");
    TCase *tc = tcase_create("random");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, test_reference);
    tcase_add_test(tc, test_random_0);
    tcase_add_test(tc, test_random_1);
    tcase_add_test(tc, test_random_unit);
    tcase_add_test(tc, test_random_edges);
    suite_add_tcase(s, tc);
    return s;
}
