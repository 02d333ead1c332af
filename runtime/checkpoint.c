/* checkpoint.c - HuggingFace model directories: config, index, shards,
 * validation against a model's expectations, permuted loading.
 *
 * Everything in a checkpoint directory came from somewhere else (a hub
 * download, a conversion script, a half-finished copy), so ckpt_open()
 * checks all of it before anything is used and stops at the first problem
 * with a message that names the file and, where there is one, the tensor:
 *
 *   - the JSON files are read whole (they are small; a limit guards
 *     against a mistaken multi-gigabyte file) and parsed by cJSON.  cJSON
 *     reports where it stopped; that byte is turned into LINE:COL so a
 *     syntax error reads like a compiler's.  Files are opened O_NONBLOCK
 *     and must be regular, so a FIFO or a directory named config.json is an
 *     error rather than a hang;
 *   - weights are either model.safetensors or the shards named by
 *     model.safetensors.index.json, never "whatever *.safetensors lies
 *     around" (Mistral repositories ship a consolidated.safetensors beside
 *     the shards, and HF's loader ignores it too).  Single file first, as
 *     transformers does.  Each file is mmapped and validated by
 *     tio_st_open(); nothing is copied;
 *   - the index must agree with the shards exactly: every file it names
 *     exists, every tensor it lists is in the file it names, no tensor is in
 *     two files, no shard holds a tensor the index does not list for it,
 *     no tensor is listed twice, file names are plain names (no '/', so an
 *     index cannot point outside its directory);
 *   - all tensors go into one open-addressing hash table (FNV-1a, linear
 *     probing, at most half full), so a lookup costs the same for a
 *     one-file toy and a 191-shard 405B model.
 *
 * Validation (ckpt_validate) is separate and exhaustive on purpose: when a
 * checkpoint does not fit a model the user wants the whole list - every
 * missing tensor, every wrong shape with both shapes, every wrong dtype -
 * not one error per attempt; unused tensors are listed as warnings.
 *
 * Loading (ckpt_copy_permuted) is the plan's view-permute-convert step,
 * done without per-element index arithmetic where it matters.  Axes of
 * size 1 are dropped and output axes that stay adjacent in the source are
 * merged, which reduces almost every real case to one of three shapes:
 *   - identity: one dtype_convert() over the whole tensor (a memcpy when
 *     the dtypes agree);
 *   - inner axis unmoved: dtype_convert() per contiguous run;
 *   - a (batched) 2-D transpose - every HF projection, stored [out, in] -
 *     done in 64x64 tiles: each source row segment of a tile is converted
 *     into a small buffer, which is then written out column-wise, so both
 *     sides stay in cache.
 * Anything else gathers strided lines into a buffer and converts that.
 * dtype_convert rounds once from the source type (an f64 source is rounded
 * directly, not via f32), so every path rounds exactly once.
 */
#include "strbuf.h"
#include "checkpoint.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define JSON_MAX_BYTES  (64u << 20)    /* config, generation config, index */
#define JSON_MAX_INT    9007199254740992.0
#define INDEX_NAME      "model.safetensors.index.json"
#define SINGLE_NAME     "model.safetensors"
#define TILE            64

typedef struct CkEnt { int file, idx; } CkEnt;          /* tensor = files[file].tensors[idx] */

/* Open addressing over names; a slot holds index+1 into keys (0 = empty). */
typedef struct NameTab {
    uint32_t    *slot;
    size_t       mask;
    const char **keys;          /* borrowed */
} NameTab;

struct Checkpoint {
    char         *dir;
    char         *where;        /* the weights file or the index, for messages */
    cJSON        *config, *gen;
    int           nfiles;
    SafeTensors  *files;
    int           ntensors;
    CkEnt        *ents;
    const char  **names;        /* ntensors; borrowed from the HostTensors */
    NameTab       tab;
    int64_t       bos;
    int64_t      *eos;
    int           neos;
    DType         torch_dtype;
    int64_t       max_pos;
    CkptSampling  sampling;
};

/* ------------------------------------------------------------------ */
/* Errors and small helpers                                            */

static int fail(CkptError *err, const char *path, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(CkptError *err, const char *path, const char *fmt, ...)
{
    if (!err) return -1;
    int n = snprintf(err->msg, sizeof err->msg, "%s: error: ", path ? path : "(null)");
    if (n < 0 || (size_t)n >= sizeof err->msg) return -1;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg + n, sizeof err->msg - (size_t)n, fmt, ap);
    va_end(ap);
    return -1;
}

/* A name from a file, printable: at most ~100 bytes, controls, quotes and
 * backslashes escaped. */
typedef struct { char s[160]; } Esc;
static const char *esc(Esc *e, const char *s)
{
    size_t o = 0, size = sizeof e->s;
    if (!s) s = "(null)";
    for (; *s && o + 8 < size; s++) {
        unsigned char c = (unsigned char)*s;
        if (o > 100) { memcpy(e->s + o, "...", 3); o += 3; break; }
        if (c < 0x20 || c == 0x7f || c == '\'' || c == '\\')
            o += (size_t)snprintf(e->s + o, size - o, "\\x%02x", c);
        else
            e->s[o++] = (char)c;
    }
    e->s[o] = '\0';
    return e->s;
}

static void shape_str(char *buf, size_t size, const int64_t *shape, int rank)
{
    size_t o = (size_t)snprintf(buf, size, "[");
    for (int i = 0; i < rank && o < size; i++)
        o += (size_t)snprintf(buf + o, size - o, "%s%" PRId64, i ? ", " : "", shape[i]);
    if (o < size) snprintf(buf + o, size - o, "]");
}

static char *path_join(const char *dir, const char *name)
{
    size_t a = strlen(dir), b = strlen(name);
    char *p = malloc(a + b + 2);
    if (!p) return NULL;
    memcpy(p, dir, a);
    p[a] = '/';
    memcpy(p + a + 1, name, b + 1);
    return p;
}


/* ------------------------------------------------------------------ */
/* Name table                                                          */

static uint64_t fnv1a(const char *s)
{
    uint64_t h = 14695981039346656037ull;
    for (; *s; s++) { h ^= (unsigned char)*s; h *= 1099511628211ull; }
    return h;
}

static int tab_init(NameTab *t, const char **keys, size_t n)
{
    size_t cap = 16;
    while (cap < 2 * n) cap *= 2;
    t->slot = calloc(cap, sizeof *t->slot);
    t->mask = cap - 1;
    t->keys = keys;
    return t->slot ? 0 : -1;
}

static void tab_free(NameTab *t) { free(t->slot); memset(t, 0, sizeof *t); }

/* Index of name, or -1. */
static int tab_find(const NameTab *t, const char *name)
{
    if (!t->slot) return -1;
    for (size_t i = fnv1a(name) & t->mask;; i = (i + 1) & t->mask) {
        uint32_t s = t->slot[i];
        if (!s) return -1;
        if (strcmp(t->keys[s - 1], name) == 0) return (int)(s - 1);
    }
}

/* Inserts keys[idx]; returns -1, or the index already holding that name. */
static int tab_insert(NameTab *t, int idx)
{
    const char *name = t->keys[idx];
    for (size_t i = fnv1a(name) & t->mask;; i = (i + 1) & t->mask) {
        uint32_t s = t->slot[i];
        if (!s) { t->slot[i] = (uint32_t)idx + 1; return -1; }
        if (strcmp(t->keys[s - 1], name) == 0) return (int)(s - 1);
    }
}

/* ------------------------------------------------------------------ */
/* JSON files                                                          */

/* Reads a small regular file whole, NUL-terminated.  A missing file gives
 * 1 with *text NULL when `optional`; errors give -1. */
static int read_text(const char *path, bool optional, char **text, size_t *len, CkptError *err)
{
    *text = NULL;
    *len = 0;
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        struct stat lb;
        bool link = e == ENOENT && lstat(path, &lb) == 0;
        if (optional && e == ENOENT && !link) return 1;
        return fail(err, path, "cannot open: %s%s", strerror(e), link ? " (a dangling symbolic link)" : "");
    }
    struct stat sb;
    if (fstat(fd, &sb) != 0) {
        int e = errno;
        close(fd);
        return fail(err, path, "cannot stat: %s", strerror(e));
    }
    if (!S_ISREG(sb.st_mode)) { close(fd); return fail(err, path, "not a regular file"); }
    if ((uint64_t)sb.st_size > JSON_MAX_BYTES) {
        close(fd);
        return fail(err, path, "%" PRIu64 " bytes is too large for a JSON file here (limit %u)",
                    (uint64_t)sb.st_size, JSON_MAX_BYTES);
    }
    size_t cap = (size_t)sb.st_size + 1, n = 0;
    char *p = malloc(cap);
    if (!p) { close(fd); return fail(err, path, "out of memory"); }
    for (;;) {
        if (n + 1 == cap) {      /* the file grew while we read it: keep going up to the limit */
            if (cap > JSON_MAX_BYTES) { free(p); close(fd); return fail(err, path, "file too large"); }
            char *q = realloc(p, cap * 2);
            if (!q) { free(p); close(fd); return fail(err, path, "out of memory"); }
            p = q;
            cap *= 2;
        }
        ssize_t r = read(fd, p + n, cap - 1 - n);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) {
            int e = errno;
            free(p);
            close(fd);
            return fail(err, path, "cannot read: %s", strerror(e));
        }
        if (r == 0) break;
        n += (size_t)r;
    }
    close(fd);
    p[n] = '\0';
    *text = p;
    *len = n;
    return 0;
}

static bool is_ws(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

/* Parses PATH as a JSON object.  A syntax error is reported at the line
 * and column where cJSON stopped.  Returns 1 (and *out NULL) for an absent
 * optional file. */
static int parse_json_file(const char *path, bool optional, cJSON **out, CkptError *err)
{
    *out = NULL;
    char *text;
    size_t len;
    int rc = read_text(path, optional, &text, &len, err);
    if (rc) return rc;
    const char *end = NULL, *stop = text + len;
    /* cJSON skips every byte <= 0x20 as white space; JSON allows four */
    for (const char *c = text; c < stop; c++)
        if ((unsigned char)*c < 0x20 && !is_ws(*c)) { end = c; break; }
    cJSON *j = end ? NULL : cJSON_ParseWithLengthOpts(text, len, &end, 0);
    const char *trail = j && end && end >= text && end <= stop ? end : stop;
    while (trail < stop && is_ws(*trail)) trail++;
    if (!j || trail < stop || !cJSON_IsObject(j)) {
        /* where: cJSON's stopping point, the trailing text, or the value */
        const char *at = !j ? (end && end >= text && end <= stop ? end : text) : trail < stop ? trail : text;
        if (j && trail == stop) while (at < stop && is_ws(*at)) at++;
        const char *q = at;
        while (q < stop && is_ws(*q)) q++;
        bool empty = true, at_end = q == stop;
        for (const char *c = text; c < stop && empty; c++) empty = is_ws(*c);
        if (empty) at = text;
        else if (at_end) at = stop;
        int line = 1, col = 1;
        for (const char *c = text; c < at; c++) {
            if (*c == '\n') { line++; col = 1; } else col++;
        }
        char near[40];
        size_t k = 0;
        for (const char *c = at; c < stop && *c != '\n' && *c != '\r' && k < 24; c++, k++)
            near[k] = (unsigned char)*c < 0x20 || *c == 0x7f ? '?' : *c;
        near[k] = '\0';
        char where[4200];
        snprintf(where, sizeof where, "%s:%d:%d", path, line, col);
        if (empty) fail(err, where, "invalid JSON: the file is empty");
        else if (!j && at_end) fail(err, where, "invalid JSON: unexpected end of file");
        else if (!j) fail(err, where, "invalid JSON near '%s'", near);
        else if (trail < stop) fail(err, where, "invalid JSON: unexpected text after the object near '%s'", near);
        else fail(err, where, "the file must hold a JSON object");
        cJSON_Delete(j);
        free(text);
        return -1;
    }
    free(text);
    *out = j;
    return 0;
}

/* An integer in [0, 2^53), exactly. */
static bool json_uint(const cJSON *v, int64_t *out)
{
    if (!cJSON_IsNumber(v)) return false;
    double d = v->valuedouble;
    if (!(d >= 0 && d < JSON_MAX_INT) || d != (double)(int64_t)d) return false;
    *out = (int64_t)d;
    return true;
}

/* Appends the ids of `key` (an integer, a list of integers, or null) to
 * *ids unless already there. */
static int add_token_ids(const char *path, const cJSON *obj, const char *key, int64_t **ids, int *n,
                         CkptError *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!v || cJSON_IsNull(v)) return 0;
    const cJSON *first = cJSON_IsArray(v) ? v->child : v;
    int cnt = cJSON_IsArray(v) ? cJSON_GetArraySize(v) : 1;
    int64_t *p = realloc(*ids, sizeof **ids * (size_t)(*n + cnt + 1));
    if (!p) return fail(err, path, "out of memory");
    *ids = p;
    int i = 0;
    for (const cJSON *e = first; e && i < cnt; e = e->next, i++) {
        int64_t id;
        if (!json_uint(e, &id)) {
            if (cJSON_IsArray(v))
                return fail(err, path, "'%s'[%d] is not a non-negative integer", key, i);
            return fail(err, path, "'%s' must be a non-negative integer or a list of them", key);
        }
        bool seen = false;
        for (int k = 0; k < *n && !seen; k++) seen = p[k] == id;
        if (!seen) p[(*n)++] = id;
    }
    return 0;
}

static int get_uint(const char *path, const cJSON *obj, const char *key, int64_t *out, bool positive,
                    CkptError *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!v || cJSON_IsNull(v)) return 0;
    if (!json_uint(v, out) || (positive && *out == 0))
        return fail(err, path, "'%s' must be a %s integer", key, positive ? "positive" : "non-negative");
    return 1;
}

static int get_number(const char *path, const cJSON *obj, const char *key, double *out, bool *has,
                      CkptError *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!v || cJSON_IsNull(v)) return 0;
    if (!cJSON_IsNumber(v) || !(v->valuedouble >= 0) || v->valuedouble > 1e30)
        return fail(err, path, "'%s' must be a non-negative number", key);
    *out = v->valuedouble;
    *has = true;
    return 0;
}

static int read_configs(Checkpoint *ck, CkptError *err)
{
    char *cpath = path_join(ck->dir, "config.json"), *gpath = path_join(ck->dir, "generation_config.json");
    int rc = -1;
    if (!cpath || !gpath) { fail(err, ck->dir, "out of memory"); goto done; }
    if (parse_json_file(cpath, false, &ck->config, err) != 0) goto done;
    if (parse_json_file(gpath, true, &ck->gen, err) < 0) goto done;
    const cJSON *c = ck->config, *g = ck->gen;
    /* bos: generation_config.json's, else config.json's */
    int64_t v;
    int got = g ? get_uint(gpath, g, "bos_token_id", &v, false, err) : 0;
    if (got < 0) goto done;
    if (!got && (got = get_uint(cpath, c, "bos_token_id", &v, false, err)) < 0) goto done;
    ck->bos = got ? v : -1;
    if (add_token_ids(cpath, c, "eos_token_id", &ck->eos, &ck->neos, err)) goto done;
    if (g && add_token_ids(gpath, g, "eos_token_id", &ck->eos, &ck->neos, err)) goto done;
    const char *dkey = cJSON_GetObjectItemCaseSensitive(c, "torch_dtype") ? "torch_dtype" : "dtype";
    const cJSON *dt = cJSON_GetObjectItemCaseSensitive(c, dkey);
    if (dt && !cJSON_IsNull(dt)) {
        Esc e;
        if (!cJSON_IsString(dt)) { fail(err, cpath, "'%s' must be a string such as \"bfloat16\"", dkey); goto done; }
        if (!dtype_parse(dt->valuestring, &ck->torch_dtype)) {
            fail(err, cpath, "'%s' is '%s', which is not a known dtype", dkey, esc(&e, dt->valuestring));
            goto done;
        }
    }
    got = get_uint(cpath, c, "max_position_embeddings", &ck->max_pos, true, err);
    if (got < 0) goto done;
    if (!got) ck->max_pos = -1;
    if (g) {
        CkptSampling *s = &ck->sampling;
        if (get_number(gpath, g, "temperature", &s->temperature, &s->has_temperature, err)) goto done;
        if (get_number(gpath, g, "top_p", &s->top_p, &s->has_top_p, err)) goto done;
        if (s->has_top_p && s->top_p > 1) { fail(err, gpath, "'top_p' must be at most 1"); goto done; }
        got = get_uint(gpath, g, "top_k", &s->top_k, false, err);
        if (got < 0) goto done;
        s->has_top_k = got > 0;
        const cJSON *ds = cJSON_GetObjectItemCaseSensitive(g, "do_sample");
        if (ds && !cJSON_IsNull(ds)) {
            if (!cJSON_IsBool(ds)) { fail(err, gpath, "'do_sample' must be true or false"); goto done; }
            s->has_do_sample = true;
            s->do_sample = cJSON_IsTrue(ds);
        }
    }
    rc = 0;
done:
    free(cpath);
    free(gpath);
    return rc;
}

/* ------------------------------------------------------------------ */
/* Weights                                                             */

/* Opens one weights file (which must be a regular file: a FIFO would
 * block tio_st_open).  `why`, if set, is appended to an error, e.g.
 * "(named in ... for tensor 'x')". */
static int open_weights(const char *path, SafeTensors *st, const char *why, CkptError *err)
{
    struct stat sb;
    memset(st, 0, sizeof *st);
    if (stat(path, &sb) != 0) {
        int e = errno;
        struct stat lb;
        bool link = e == ENOENT && lstat(path, &lb) == 0;
        return fail(err, path, "cannot open: %s%s%s", strerror(e), link ? " (a dangling symbolic link)" : "",
                    why ? why : "");
    }
    if (!S_ISREG(sb.st_mode)) return fail(err, path, "not a regular file%s", why ? why : "");
    TioError te;
    if (tio_st_open(path, st, &te) != 0) {
        if (err) snprintf(err->msg, sizeof err->msg, "%s", te.msg);
        return -1;
    }
    return 0;
}

/* Puts every tensor of every open file in the table; a name in two files
 * is an error. */
static int build_table(Checkpoint *ck, CkptError *err)
{
    int n = 0;
    for (int f = 0; f < ck->nfiles; f++) {
        if (ck->files[f].count > INT32_MAX / 4 - n) return fail(err, ck->where, "too many tensors");
        n += ck->files[f].count;
    }
    ck->ents = calloc(n ? (size_t)n : 1, sizeof *ck->ents);
    ck->names = calloc(n ? (size_t)n : 1, sizeof *ck->names);
    if (!ck->ents || !ck->names || tab_init(&ck->tab, ck->names, (size_t)n))
        return fail(err, ck->where, "out of memory");
    int k = 0;
    for (int f = 0; f < ck->nfiles; f++)
        for (int i = 0; i < ck->files[f].count; i++, k++) {
            ck->ents[k] = (CkEnt){ f, i };
            ck->names[k] = ck->files[f].tensors[i].name;
            int old = tab_insert(&ck->tab, k);
            if (old >= 0) {
                Esc e;
                return fail(err, ck->files[f].path, "tensor '%s' is present in two files: %s and %s",
                            esc(&e, ck->names[k]), ck->files[ck->ents[old].file].path, ck->files[f].path);
            }
        }
    ck->ntensors = n;
    return 0;
}

/* A file name from the index: a plain name inside the directory. */
static bool plain_name(const char *s)
{
    if (!*s || strcmp(s, ".") == 0 || strcmp(s, "..") == 0) return false;
    for (; *s; s++)
        if (*s == '/' || (unsigned char)*s < 0x20 || *s == 0x7f) return false;
    return true;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int open_index(Checkpoint *ck, const char *ipath, CkptError *err)
{
    cJSON *root = NULL;
    const char **fnames = NULL, **lnames = NULL;
    int *lfile = NULL;
    bool *listed = NULL;
    int rc = -1, nl = 0, nf = 0;
    if (parse_json_file(ipath, false, &root, err)) goto done;
    const cJSON *wm = cJSON_GetObjectItemCaseSensitive(root, "weight_map");
    if (!wm) { fail(err, ipath, "no 'weight_map'"); goto done; }
    if (!cJSON_IsObject(wm)) { fail(err, ipath, "'weight_map' is not a JSON object"); goto done; }
    nl = cJSON_GetArraySize(wm);
    if (nl == 0) { fail(err, ipath, "'weight_map' is empty"); goto done; }
    lnames = calloc((size_t)nl, sizeof *lnames);
    fnames = calloc((size_t)nl, sizeof *fnames);
    lfile = calloc((size_t)nl, sizeof *lfile);
    if (!lnames || !fnames || !lfile) { fail(err, ipath, "out of memory"); goto done; }
    int i = 0;
    for (const cJSON *e = wm->child; e; e = e->next, i++) {
        Esc en, ef;
        lnames[i] = e->string;
        if (!cJSON_IsString(e)) {
            fail(err, ipath, "weight_map entry for tensor '%s' is not a file name (a string)", esc(&en, e->string));
            goto done;
        }
        if (!plain_name(e->valuestring)) {
            fail(err, ipath, "weight_map entry for tensor '%s': '%s' is not a plain file name in the directory",
                 esc(&en, e->string), esc(&ef, e->valuestring));
            goto done;
        }
        fnames[i] = e->valuestring;
    }
    /* the distinct files, in name order */
    const char **sorted = malloc(sizeof *sorted * (size_t)nl);
    if (!sorted) { fail(err, ipath, "out of memory"); goto done; }
    memcpy(sorted, fnames, sizeof *sorted * (size_t)nl);
    qsort(sorted, (size_t)nl, sizeof *sorted, cmp_str);
    for (i = 0; i < nl; i++)
        if (nf == 0 || strcmp(sorted[nf - 1], sorted[i]) != 0) sorted[nf++] = sorted[i];
    for (i = 0; i < nl; i++) {
        const char **hit = bsearch(&fnames[i], sorted, (size_t)nf, sizeof *sorted, cmp_str);
        lfile[i] = (int)(hit - sorted);
    }
    ck->files = calloc((size_t)nf, sizeof *ck->files);
    if (!ck->files) { free(sorted); fail(err, ipath, "out of memory"); goto done; }
    const char *iname = strrchr(ipath, '/') ? strrchr(ipath, '/') + 1 : ipath;
    for (int f = 0; f < nf; f++) {
        int first = -1, count = 0;
        for (i = 0; i < nl; i++)
            if (lfile[i] == f) { if (first < 0) first = i; count++; }
        char why[400];
        Esc e;
        snprintf(why, sizeof why, " (named in %s for tensor '%s'%s)", iname, esc(&e, lnames[first]),
                 count > 1 ? " and others" : "");
        char *p = path_join(ck->dir, sorted[f]);
        if (!p) { free(sorted); fail(err, ipath, "out of memory"); goto done; }
        int r = open_weights(p, &ck->files[f], why, err);
        free(p);
        if (r) { free(sorted); goto done; }
        ck->nfiles = f + 1;
    }
    free(sorted);
    if (build_table(ck, err)) goto done;
    listed = calloc(ck->ntensors ? (size_t)ck->ntensors : 1, sizeof *listed);
    if (!listed) { fail(err, ipath, "out of memory"); goto done; }
    for (i = 0; i < nl; i++) {
        Esc e;
        const char *fpath = ck->files[lfile[i]].path;
        int k = tab_find(&ck->tab, lnames[i]);
        if (k < 0) {
            fail(err, fpath, "tensor '%s' is listed in %s for this file but is not in it", esc(&e, lnames[i]), iname);
            goto done;
        }
        if (ck->ents[k].file != lfile[i]) {
            fail(err, ck->files[ck->ents[k].file].path, "tensor '%s' is in this file, but %s lists it in %s",
                 esc(&e, lnames[i]), iname, fpath);
            goto done;
        }
        if (listed[k]) { fail(err, ipath, "weight_map lists tensor '%s' twice", esc(&e, lnames[i])); goto done; }
        listed[k] = true;
    }
    for (int k = 0; k < ck->ntensors; k++)
        if (!listed[k]) {
            Esc e;
            fail(err, ck->files[ck->ents[k].file].path, "tensor '%s' is in this file but not listed in %s",
                 esc(&e, ck->names[k]), iname);
            goto done;
        }
    rc = 0;
done:
    cJSON_Delete(root);
    free(fnames);
    free(lnames);
    free(lfile);
    free(listed);
    return rc;
}

static int open_single(Checkpoint *ck, const char *path, CkptError *err)
{
    ck->files = calloc(1, sizeof *ck->files);
    if (!ck->files) return fail(err, path, "out of memory");
    if (open_weights(path, &ck->files[0], NULL, err)) return -1;
    ck->nfiles = 1;
    return build_table(ck, err);
}

/* Neither model.safetensors nor an index: say what is there instead. */
static int no_weights(const char *dir, CkptError *err)
{
    DIR *d = opendir(dir);
    char st[256] = "", bin[256] = "";
    if (d) {
        for (struct dirent *e; (e = readdir(d));) {
            size_t n = strlen(e->d_name);
            char *slot = n > 12 && strcmp(e->d_name + n - 12, ".safetensors") == 0 ? st
                       : (n > 4 && strcmp(e->d_name + n - 4, ".bin") == 0) ||
                         (n > 4 && strcmp(e->d_name + n - 4, ".pth") == 0) ? bin : NULL;
            if (slot && n < 256 && (!slot[0] || strcmp(e->d_name, slot) < 0)) memcpy(slot, e->d_name, n + 1);
        }
        closedir(d);
    }
    Esc e;
    if (st[0])
        return fail(err, dir, "no %s or %s (there is '%s', but no index naming the weights files)",
                    SINGLE_NAME, INDEX_NAME, esc(&e, st));
    if (bin[0])
        return fail(err, dir, "no %s or %s (there is '%s': only safetensors weights are supported)",
                    SINGLE_NAME, INDEX_NAME, esc(&e, bin));
    return fail(err, dir, "no %s or %s: the directory has no weights", SINGLE_NAME, INDEX_NAME);
}

static bool has_suffix(const char *s, const char *suf)
{
    size_t n = strlen(s), m = strlen(suf);
    return n >= m && strcmp(s + n - m, suf) == 0;
}

static char *dir_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash) return strdup(".");
    if (slash == path) return strdup("/");
    return strndup(path, (size_t)(slash - path));
}

int ckpt_open(const char *path, Checkpoint **out, CkptError *err)
{
    if (!out) return fail(err, path, "no output");
    *out = NULL;
    if (!path || !*path) return fail(err, "(checkpoint)", "no path");
    struct stat sb;
    if (stat(path, &sb) != 0) return fail(err, path, "cannot open: %s", strerror(errno));
    if (!S_ISDIR(sb.st_mode) && !S_ISREG(sb.st_mode))
        return fail(err, path, "not a model directory or a .safetensors file");
    Checkpoint *ck = calloc(1, sizeof *ck);
    if (!ck) return fail(err, path, "out of memory");
    ck->bos = -1;
    ck->max_pos = -1;
    int rc = -1;
    if (S_ISREG(sb.st_mode)) {                 /* weights only */
        ck->dir = dir_of(path);
        ck->where = strdup(path);
        if (!ck->dir || !ck->where) { fail(err, path, "out of memory"); goto done; }
        rc = has_suffix(path, ".json") ? open_index(ck, path, err) : open_single(ck, path, err);
        goto done;
    }
    size_t len = strlen(path);
    while (len > 1 && path[len - 1] == '/') len--;
    ck->dir = strndup(path, len);
    if (!ck->dir) { fail(err, path, "out of memory"); goto done; }
    if (read_configs(ck, err)) goto done;
    char *single = path_join(ck->dir, SINGLE_NAME), *index = path_join(ck->dir, INDEX_NAME);
    if (!single || !index) {
        free(single);
        free(index);
        fail(err, path, "out of memory");
        goto done;
    }
    struct stat s1, s2;    /* lstat: a dangling link (an HF cache missing its blob) is an error */
    if (lstat(single, &s1) == 0 || errno != ENOENT) {
        ck->where = single;
        free(index);
        rc = open_single(ck, single, err);
    } else if (lstat(index, &s2) == 0 || errno != ENOENT) {
        ck->where = index;
        free(single);
        rc = open_index(ck, index, err);
    } else {
        free(single);
        free(index);
        rc = no_weights(ck->dir, err);
    }
done:
    if (rc) ckpt_close(ck);
    else *out = ck;
    return rc;
}

void ckpt_close(Checkpoint *ck)
{
    if (!ck) return;
    for (int f = 0; f < ck->nfiles; f++) tio_st_close(&ck->files[f]);
    free(ck->files);
    free(ck->ents);
    free(ck->names);
    tab_free(&ck->tab);
    cJSON_Delete(ck->config);
    cJSON_Delete(ck->gen);
    free(ck->eos);
    free(ck->dir);
    free(ck->where);
    free(ck);
}

/* ------------------------------------------------------------------ */
/* Accessors                                                           */

const char *ckpt_dir(const Checkpoint *ck) { return ck ? ck->dir : NULL; }
const struct cJSON *ckpt_config(const Checkpoint *ck) { return ck ? ck->config : NULL; }
const struct cJSON *ckpt_generation_config(const Checkpoint *ck) { return ck ? ck->gen : NULL; }
int64_t ckpt_bos_token_id(const Checkpoint *ck) { return ck ? ck->bos : -1; }
DType ckpt_torch_dtype(const Checkpoint *ck) { return ck ? ck->torch_dtype : DT_NONE; }
int64_t ckpt_max_position_embeddings(const Checkpoint *ck) { return ck ? ck->max_pos : -1; }
const CkptSampling *ckpt_sampling(const Checkpoint *ck) { return ck ? &ck->sampling : NULL; }
int ckpt_tensor_count(const Checkpoint *ck) { return ck ? ck->ntensors : 0; }

int ckpt_eos_token_ids(const Checkpoint *ck, const int64_t **ids)
{
    if (ids) *ids = ck ? ck->eos : NULL;
    return ck ? ck->neos : 0;
}

bool ckpt_is_eos(const Checkpoint *ck, int64_t id)
{
    for (int i = 0; ck && i < ck->neos; i++)
        if (ck->eos[i] == id) return true;
    return false;
}

const HostTensor *ckpt_tensor(const Checkpoint *ck, int i, const char **file)
{
    if (!ck || i < 0 || i >= ck->ntensors) return NULL;
    const SafeTensors *st = &ck->files[ck->ents[i].file];
    if (file) *file = st->path;
    return &st->tensors[ck->ents[i].idx];
}

const HostTensor *ckpt_find(const Checkpoint *ck, const char *name, const char **file)
{
    if (!ck || !name) return NULL;
    return ckpt_tensor(ck, tab_find(&ck->tab, name), file);
}

/* ------------------------------------------------------------------ */
/* Validation                                                          */

static bool weight_dtype(DType t) { return t == DT_F32 || t == DT_F16 || t == DT_BF16; }

static bool same_expect(const CkptExpect *a, const CkptExpect *b)
{
    if (a->rank != b->rank || a->need_float != b->need_float) return false;
    for (int i = 0; i < a->rank; i++)
        if (a->shape[i] != b->shape[i]) return false;
    return true;
}

int ckpt_validate(const Checkpoint *ck, const CkptExpect *want, int n, CkptReport *rep)
{
    if (!rep) return -1;
    memset(rep, 0, sizeof *rep);
    if (!ck || n < 0 || (n > 0 && !want)) return -1;
    Str s = { 0 };
    bool *used = calloc(ck->ntensors ? (size_t)ck->ntensors : 1, sizeof *used);
    const char **wnames = calloc(n ? (size_t)n : 1, sizeof *wnames);
    NameTab seen = { 0 };
    if (!used || !wnames) s.oom = true;
    for (int i = 0; !s.oom && i < n; i++) wnames[i] = want[i].name ? want[i].name : "";
    if (!s.oom && tab_init(&seen, wnames, (size_t)n)) s.oom = true;
    for (int i = 0; !s.oom && i < n; i++) {
        const CkptExpect *w = &want[i];
        char es[400], gs[400];
        Esc e;
        int r = w->rank < 0 ? 0 : w->rank > CKPT_MAX_RANK ? CKPT_MAX_RANK : w->rank;
        shape_str(es, sizeof es, w->shape, r);
        /* an expectation repeated exactly (tied embeddings) is checked
         * once; the table gives the first with the name, a repeat is rare */
        int prev = tab_insert(&seen, i);
        bool dup = false;
        for (int p = prev; p >= 0 && p < i && !dup; p++)
            dup = strcmp(wnames[p], wnames[i]) == 0 && same_expect(&want[p], w);
        const char *file = NULL;
        int k = tab_find(&ck->tab, wnames[i]);
        if (k >= 0) used[k] = true;
        if (dup) continue;
        if (k < 0) {
            str_add(&s, "%s: error: missing tensor '%s' (the model expects shape %s)\n", ck->where,
                    esc(&e, wnames[i]), es);
            rep->missing++;
            continue;
        }
        const HostTensor *t = ckpt_tensor(ck, k, &file);
        bool ok = t->rank == w->rank;
        for (int a = 0; ok && a < t->rank; a++) ok = t->shape[a] == w->shape[a];
        if (!ok) {
            shape_str(gs, sizeof gs, t->shape, t->rank);
            str_add(&s, "%s: error: tensor '%s' has shape %s; the model expects %s\n", file, esc(&e, wnames[i]), gs, es);
            rep->bad_shape++;
        }
        if (w->need_float && !weight_dtype(t->dtype)) {
            str_add(&s, "%s: error: tensor '%s' has dtype %s; weights must be F32, F16 or BF16\n", file,
                    esc(&e, wnames[i]), dtype_st_name(t->dtype));
            rep->bad_dtype++;
        }
    }
    for (int k = 0; !s.oom && k < ck->ntensors; k++)
        if (!used[k]) {
            Esc e;
            const char *file;
            const HostTensor *t = ckpt_tensor(ck, k, &file);
            str_add(&s, "%s: warning: tensor '%s' is not used by the model\n", file, esc(&e, t->name));
            rep->unused++;
        }
    free(used);
    free(wnames);
    tab_free(&seen);
    if (s.oom) {
        free(s.p);
        rep->oom = true;
        return -1;
    }
    rep->text = s.p;
    return rep->missing || rep->bad_shape || rep->bad_dtype ? -1 : 0;
}

void ckpt_report_free(CkptReport *rep)
{
    if (!rep) return;
    free(rep->text);
    memset(rep, 0, sizeof *rep);
}

/* ------------------------------------------------------------------ */
/* Permuted, converting copy                                           */

/* Copies element i of s to element j of d (elements of es bytes). */
static inline void copy_elem(unsigned char *d, size_t j, const unsigned char *s, size_t i, size_t es)
{
    switch (es) {
    case 1: d[j] = s[i]; break;
    case 2: memcpy(d + 2 * j, s + 2 * i, 2); break;
    case 4: memcpy(d + 4 * j, s + 4 * i, 4); break;
    default: memcpy(d + 8 * j, s + 8 * i, 8); break;
    }
}

/* src [M, N] (dtype st) -> dst [N, M] (dtype dt), in TILE x TILE tiles. */
static void transpose2d(unsigned char *dst, DType dt, const unsigned char *src, DType st, int64_t M, int64_t N)
{
    size_t des = dtype_size(dt), ses = dtype_size(st);
    unsigned char tile[TILE * TILE * 8];
    for (int64_t i0 = 0; i0 < M; i0 += TILE) {
        int64_t bi = M - i0 < TILE ? M - i0 : TILE;
        for (int64_t j0 = 0; j0 < N; j0 += TILE) {
            int64_t bj = N - j0 < TILE ? N - j0 : TILE;
            for (int64_t ii = 0; ii < bi; ii++)
                dtype_convert(tile + (size_t)(ii * bj) * des, dt, src + (size_t)((i0 + ii) * N + j0) * ses, st,
                              (size_t)bj);
            for (int64_t jj = 0; jj < bj; jj++) {
                unsigned char *d = dst + (size_t)((j0 + jj) * M + i0) * des;
                for (int64_t ii = 0; ii < bi; ii++) copy_elem(d, (size_t)ii, tile, (size_t)(ii * bj + jj), des);
            }
        }
    }
}

bool ckpt_copy_permuted(void *dst, DType dt, const void *src, DType st, int rank, const int64_t *shape,
                        const int *perm)
{
    if (dt <= DT_NONE || dt >= DT_COUNT || st <= DT_NONE || st >= DT_COUNT) return false;
    if (rank < 0 || rank > CKPT_MAX_RANK || (rank > 0 && !shape)) return false;
    bool seen[CKPT_MAX_RANK] = { false };
    uint64_t numel = 1;
    bool zero = false;
    for (int a = 0; a < rank; a++) {
        int p = perm ? perm[a] : a;
        if (p < 0 || p >= rank || seen[p] || shape[a] < 0) return false;
        seen[p] = true;
        zero |= shape[a] == 0;
    }
    if (zero) return true;
    for (int a = 0; a < rank; a++) {
        if ((uint64_t)shape[a] > (uint64_t)INT64_MAX / numel) return false;
        numel *= (uint64_t)shape[a];
    }
    if (numel > SIZE_MAX / 8) return false;
    /* Reduce: drop size-1 axes, then merge output axes that are adjacent
     * in the source.  kept[s] = new index of source axis s (-1 dropped). */
    int kept[CKPT_MAX_RANK], nk = 0, op[CKPT_MAX_RANK], no = 0;
    for (int s = 0; s < rank; s++) kept[s] = shape[s] == 1 ? -1 : nk++;
    int64_t ks[CKPT_MAX_RANK];
    for (int s = 0; s < rank; s++) if (kept[s] >= 0) ks[kept[s]] = shape[s];
    for (int a = 0; a < rank; a++) {
        int p = perm ? perm[a] : a;
        if (kept[p] >= 0) op[no++] = kept[p];
    }
    /* groups of output axes: [gstart, gend] source ranges */
    int gs[CKPT_MAX_RANK], ge[CKPT_MAX_RANK], ng = 0;
    for (int a = 0; a < no; a++) {
        if (ng > 0 && op[a] == ge[ng - 1] + 1) ge[ng - 1] = op[a];
        else { gs[ng] = op[a]; ge[ng] = op[a]; ng++; }
    }
    /* new source order: groups sorted by their first source axis */
    int r = ng, operm[CKPT_MAX_RANK];
    int64_t sshape[CKPT_MAX_RANK];
    for (int g = 0; g < ng; g++) {
        int rankpos = 0;
        for (int h = 0; h < ng; h++) rankpos += gs[h] < gs[g];
        operm[g] = rankpos;
        int64_t sz = 1;
        for (int s = gs[g]; s <= ge[g]; s++) sz *= ks[s];
        sshape[rankpos] = sz;
    }
    size_t des = dtype_size(dt), ses = dtype_size(st);
    unsigned char *d = dst;
    const unsigned char *s = src;
    if (r <= 1)                                            /* identity */
        return dtype_convert(dst, dt, src, st, (size_t)numel);
    int64_t sstride[CKPT_MAX_RANK], oshape[CKPT_MAX_RANK];
    sstride[r - 1] = 1;
    for (int a = r - 2; a >= 0; a--) sstride[a] = sstride[a + 1] * sshape[a + 1];
    for (int a = 0; a < r; a++) oshape[a] = sshape[operm[a]];
    bool prefix_id = true;
    for (int a = 0; a < r - 2; a++) prefix_id &= operm[a] == a;
    if (prefix_id && operm[r - 2] == r - 1 && operm[r - 1] == r - 2) {   /* batched 2-D transpose */
        int64_t M = sshape[r - 2], N = sshape[r - 1], B = (int64_t)numel / (M * N);
        for (int64_t b = 0; b < B; b++)
            transpose2d(d + (size_t)(b * M * N) * des, dt, s + (size_t)(b * M * N) * ses, st, M, N);
        return true;
    }
    /* Odometer over the outer output axes; the innermost output axis is a
     * contiguous run (operm[r-1] == r-1) or a strided line gathered into a
     * buffer first. */
    int64_t idx[CKPT_MAX_RANK] = { 0 }, inner = oshape[r - 1], istride = sstride[operm[r - 1]];
    int64_t outer = (int64_t)numel / inner;
    unsigned char buf[256 * 8];
    for (int64_t o = 0; o < outer; o++) {
        int64_t off = 0;
        for (int a = 0; a < r - 1; a++) off += idx[a] * sstride[operm[a]];
        unsigned char *drow = d + (size_t)(o * inner) * des;
        if (istride == 1) {
            dtype_convert(drow, dt, s + (size_t)off * ses, st, (size_t)inner);
        } else {
            for (int64_t j0 = 0; j0 < inner; j0 += 256) {
                int64_t bj = inner - j0 < 256 ? inner - j0 : 256;
                for (int64_t j = 0; j < bj; j++)
                    copy_elem(buf, (size_t)j, s, (size_t)(off + (j0 + j) * istride), ses);
                dtype_convert(drow + (size_t)j0 * des, dt, buf, st, (size_t)bj);
            }
        }
        for (int a = r - 2; a >= 0; a--) { if (++idx[a] < oshape[a]) break; idx[a] = 0; }
    }
    return true;
}

int ckpt_load_tensor(const Checkpoint *ck, const char *name, int load_rank, const int64_t *load_shape,
                     const int *perm, void *dst, DType dst_dtype, CkptError *err)
{
    if (!ck) return fail(err, "(checkpoint)", "no checkpoint");
    Esc e;
    const char *file = NULL;
    const HostTensor *t = ckpt_find(ck, name, &file);
    if (!t) return fail(err, ck->where, "no tensor '%s' in the checkpoint", esc(&e, name));
    if (load_rank < 0 || load_rank > CKPT_MAX_RANK || (load_rank > 0 && !load_shape))
        return fail(err, file, "tensor '%s': invalid expected rank %d", esc(&e, name), load_rank);
    bool ok = t->rank == load_rank;
    for (int a = 0; ok && a < t->rank; a++) ok = t->shape[a] == load_shape[a];
    if (!ok) {
        char gs[400], ws[400];
        shape_str(gs, sizeof gs, t->shape, t->rank);
        shape_str(ws, sizeof ws, load_shape, load_rank);
        return fail(err, file, "tensor '%s' has shape %s; the model expects %s", esc(&e, name), gs, ws);
    }
    if (!dtype_is_float(t->dtype))
        return fail(err, file, "tensor '%s' has dtype %s; a float dtype is expected", esc(&e, name),
                    dtype_st_name(t->dtype));
    if (dst_dtype <= DT_NONE || dst_dtype >= DT_COUNT)
        return fail(err, file, "tensor '%s': invalid destination dtype %d", esc(&e, name), (int)dst_dtype);
    if (!dst && tio_numel(t) > 0) return fail(err, file, "tensor '%s': no destination buffer", esc(&e, name));
    if (!ckpt_copy_permuted(dst, dst_dtype, t->data, t->dtype, load_rank, load_shape, perm)) {
        char ps[200];
        size_t o = 0;
        for (int a = 0; a < load_rank && o < sizeof ps; a++)
            o += (size_t)snprintf(ps + o, sizeof ps - o, "%s%d", a ? ", " : "", perm ? perm[a] : a);
        if (!load_rank) ps[0] = '\0';
        return fail(err, file, "tensor '%s': (%s) is not a permutation of its %d axes", esc(&e, name), ps, load_rank);
    }
    /* copied: its mapped pages leave this process's resident memory (the weights are not held twice) */
    int i = tab_find(&ck->tab, name);
    if (i >= 0) tio_st_release(&ck->files[ck->ents[i].file], t->data, (size_t)tio_numel(t) * dtype_size(t->dtype));
    return 0;
}
