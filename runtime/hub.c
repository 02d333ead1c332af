/* hub.c - Hugging Face model ids: the shared cache first, libcurl second.
 *
 * `ueajc run -m X` accepts a directory or a model id.  An id is looked up
 * in the cache that huggingface_hub maintains (hub.h shows the layout), so
 * a model fetched by `huggingface-cli download` is used as is and a model
 * fetched here is visible to the Python tools:
 *
 *  1. The commit: a 40-hex REVISION is the commit itself; otherwise
 *     refs/REVISION holds it (no trailing newline, as huggingface_hub
 *     writes it).  If snapshots/COMMIT has everything a LLaMA runner
 *     needs - config.json, tokenizer.json or tokenizer.model,
 *     tokenizer_config.json (or a .no_exist marker saying the repo has
 *     none), and model.safetensors or model.safetensors.index.json with
 *     every shard it names - that directory is the answer and the network
 *     is never touched.  HF_HUB_OFFLINE=1 (or opt->offline) stops here
 *     with a message naming the cache and the missing file.
 *
 *  2. Otherwise GET {endpoint}/api/models/{repo}/revision/{rev} lists the
 *     repo ("sha" and "siblings").  refs/REV is written at once.  The
 *     files fetched are the top-level *.json files, tokenizer.model, and
 *     either model.safetensors or the shards the index names - never
 *     *.bin, *.pt(h), *.gguf, original/ or a second copy of the weights
 *     such as consolidated.safetensors.  Files are requested by commit
 *     ({endpoint}/{repo}/resolve/{sha}/{file}) so that a push during the
 *     download cannot mix two revisions.
 *
 *  3. Each file: a HEAD request (following only relative redirects, like
 *     huggingface_hub) gives the commit, the ETag (X-Linked-Etag for LFS
 *     files, whose 302 points at a CDN; ETag otherwise; quotes and W/
 *     stripped), the size (X-Linked-Size or Content-Length) and the
 *     download URL.  If blobs/ETAG exists nothing is transferred.  Else,
 *     under an flock() on .locks/models--ORG--NAME/ETAG.lock (the lock
 *     huggingface_hub's FileLock takes, so concurrent Python and ueajc
 *     downloads wait for each other), the body goes to
 *     blobs/ETAG.incomplete, resuming with "Range: bytes=N-" if that file
 *     exists (a 200 answer to a Range request restarts from zero; a 206
 *     must start at N).  The size is verified, the file fsync()ed and
 *     renamed to blobs/ETAG; then snapshots/COMMIT/FILE becomes the
 *     symlink ../../blobs/ETAG (made under a temporary name and renamed).
 *     A failed transfer leaves at most the .incomplete file, never a
 *     partial blob under its final name; a wrong final size deletes the
 *     .incomplete file (it cannot be resumed into a correct one).
 *
 * Authentication: "Authorization: Bearer TOKEN", with the token from
 * opt->token, else $HF_TOKEN (or the older $HUGGING_FACE_HUB_TOKEN), else
 * the file `huggingface-cli login` writes.  It is sent only to URLs under
 * the endpoint (never to the CDN a 302 points at; libcurl also drops it on
 * redirects to another host), it is never printed, and the header strings
 * are wiped after each request.  401/403 answers explain HF_TOKEN and
 * gated models' licences.
 *
 * Messages are one line and name the URL without its query string (CDN
 * URLs carry signatures).  Progress: one line per file on opt->log
 * ("name  12.3 / 2471.6 MB  0%  45.2 MB/s", rewritten with \r at most ten
 * times a second), shown when the log is a terminal (HUB_PROGRESS_AUTO,
 * unless $HF_HUB_DISABLE_PROGRESS_BARS is set) or always/never on request.
 *
 * State: everything lives in a Hub on the caller's stack.  libcurl's
 * global initialisation is reference counted and thread-safe since
 * 7.84; hub_resolve pairs curl_global_init/curl_global_cleanup around
 * each use of the network and keeps no static state of its own.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>

#include "hub.h"

#define HUB_PATH 4096
#define HUB_URL  8192
#define HUB_DEFAULT_ENDPOINT "https://huggingface.co"
#define HUB_MAX_LISTING (64L << 20)   /* bytes of JSON from the api */
#define HUB_MAX_INDEX   (64L << 20)   /* bytes of model.safetensors.index.json */

typedef struct Names { char **v; size_t n, cap; } Names;

typedef struct Hub {
    char  endpoint[1024];      /* no trailing '/' */
    char  cache[HUB_PATH];
    char  token[2048];         /* "" when none; wiped at the end */
    char  token_src[HUB_PATH]; /* where it came from, for -v (never the value) */
    int   offline, progress, verbose;
    FILE *log;
    long  connect_timeout, stall_timeout;
    char  repo[256], rev[256];
    char  repo_dir[HUB_PATH];  /* CACHE/models--ORG--NAME */
    char  lock_dir[HUB_PATH];  /* CACHE/.locks/models--ORG--NAME */
    CURL *curl;
    char  cerr[CURL_ERROR_SIZE];
    char *err; size_t errlen;
} Hub;

/* What one response said (the last one, when redirects were followed). */
typedef struct Resp {
    long      status;
    char      commit[128], etag[256], linked_etag[256];
    char      error_code[64], error_msg[256];
    long long linked_size, content_length, range_start;
    int       location_relative;
} Resp;

/* Where a body goes: memory (the api listing) or a file (a blob). */
typedef struct Sink {
    Resp     *r;
    char     *mem; size_t len, cap, max; int too_big;
    int       fd;  long long offset, resume_from, expect;
    int       write_errno, restart, overflow;
    const char *name; FILE *log; int progress; double t0, last; int shown;
} Sink;

/* ---- small helpers ---- */

static int fail(Hub *h, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(Hub *h, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(h->err, h->errlen, fmt, ap);
    va_end(ap);
    for (char *p = h->err; *p; p++) if (*p == '\n' || *p == '\r') *p = ' ';
    return -1;
}

static void wipe(void *p, size_t n)
{
    volatile unsigned char *q = p;
    while (n--) *q++ = 0;
}

static int pathf(Hub *h, char *out, size_t n, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static int pathf(Hub *h, char *out, size_t n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(out, n, fmt, ap);
    va_end(ap);
    if (k < 0 || (size_t)k >= n) return fail(h, "path or URL too long (%.80s...)", out);
    return 0;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int truthy(const char *v)
{
    if (!v) return 0;
    return !strcasecmp(v, "1") || !strcasecmp(v, "true") || !strcasecmp(v, "yes") || !strcasecmp(v, "on");
}

static const char *env(const char *name)
{
    const char *v = getenv(name);
    return v && *v ? v : NULL;
}

static int ends_with(const char *s, const char *suf)
{
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && strcmp(s + a - b, suf) == 0;
}

static int is_file(const char *path)     /* follows symlinks: a dangling link is absent */
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static int mkdir_p(const char *path)
{
    char tmp[HUB_PATH];
    if (snprintf(tmp, sizeof tmp, "%s", path) >= (int)sizeof tmp) { errno = ENAMETOOLONG; return -1; }
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/') continue;
        *p = 0;
        if (mkdir(tmp, 0777) != 0 && errno != EEXIST) return -1;
        *p = '/';
    }
    if (mkdir(tmp, 0777) != 0 && errno != EEXIST) return -1;
    return 0;
}

static int mkdir_or_fail(Hub *h, const char *dir)
{
    if (mkdir_p(dir) != 0) return fail(h, "cannot create the directory %s: %s", dir, strerror(errno));
    return 0;
}

/* Reads a whole small file, NUL-terminated; NULL on error or if larger than max. */
static char *slurp(const char *path, long max, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    char *buf = NULL;
    size_t n = 0, cap = 0;
    for (;;) {
        if (n + 4096 + 1 > cap) {
            cap = cap ? cap * 2 : 8192;
            if ((long)cap > max + 8192) { free(buf); fclose(f); errno = EFBIG; return NULL; }
            char *nb = realloc(buf, cap);
            if (!nb) { free(buf); fclose(f); return NULL; }
            buf = nb;
        }
        size_t k = fread(buf + n, 1, cap - n - 1, f);
        n += k;
        if (k == 0) break;
    }
    int bad = ferror(f) || (long)n > max;
    fclose(f);
    if (bad) { free(buf); return NULL; }
    buf[n] = 0;
    if (len) *len = n;
    return buf;
}

static int names_add(Names *s, const char *v)
{
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 16;
        char **nv = realloc(s->v, cap * sizeof *nv);
        if (!nv) return -1;
        s->v = nv; s->cap = cap;
    }
    if (!(s->v[s->n] = strdup(v))) return -1;
    s->n++;
    return 0;
}

static int names_has(const Names *s, const char *v)
{
    for (size_t i = 0; i < s->n; i++) if (!strcmp(s->v[i], v)) return 1;
    return 0;
}

static void names_free(Names *s)
{
    for (size_t i = 0; i < s->n; i++) free(s->v[i]);
    free(s->v);
    memset(s, 0, sizeof *s);
}

/* A top-level file name we are willing to create in a snapshot. */
static int safe_file(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 200 || s[0] == '.') return 0;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)s[i]) && !strchr("._-", s[i])) return 0;
    return 1;
}

/* ETags and commit hashes become file names: hex, letters, '-', '_'. */
static int safe_token(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 128) return 0;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)s[i]) && s[i] != '-' && s[i] != '_') return 0;
    return 1;
}

static int is_commit(const char *s)
{
    size_t n = strlen(s);
    if (n != 40) return 0;
    for (size_t i = 0; i < n; i++) if (!isxdigit((unsigned char)s[i])) return 0;
    return 1;
}

/* Percent-encoding as Python's quote(s, safe=""). */
static void url_quote(const char *s, char *out, size_t n)
{
    size_t k = 0;
    for (; *s && k + 4 < n; s++) {
        unsigned char c = (unsigned char)*s;
        if (isalnum(c) || strchr("_.-~", c)) out[k++] = (char)c;
        else k += (size_t)snprintf(out + k, n - k, "%%%02X", c);
    }
    out[k] = 0;
}

/* The URL for messages: without the query string (CDN signatures). */
static const char *show_url(const char *url, char *buf, size_t n)
{
    size_t k = strcspn(url, "?#");
    if (k >= n) k = n - 1;
    memcpy(buf, url, k);
    buf[k] = 0;
    return buf;
}

/* ---- model ids and paths ---- */

static int name_part_ok(const char *s, size_t n)
{
    if (n == 0 || n > 96) return 0;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)s[i]) && !strchr("-_.", s[i])) return 0;
    if (!isalnum((unsigned char)s[0]) && s[0] != '_') return 0;
    if (!isalnum((unsigned char)s[n - 1]) && s[n - 1] != '_') return 0;
    for (size_t i = 0; i + 1 < n; i++)
        if ((s[i] == '-' && s[i + 1] == '-') || (s[i] == '.' && s[i + 1] == '.')) return 0;
    return 1;
}

static int rev_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 200 || s[0] == '/' || s[n - 1] == '/' || strstr(s, "..") || strstr(s, "//")) return 0;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)s[i]) && !strchr("._/-", s[i])) return 0;
    return 1;
}

static int parse_id(const char *arg, char *repo, size_t rn, char *rev, size_t vn)
{
    const char *at = strchr(arg, '@');
    size_t idlen = at ? (size_t)(at - arg) : strlen(arg);
    if (idlen + 1 > rn) return -1;
    memcpy(repo, arg, idlen);
    repo[idlen] = 0;
    const char *r = at ? at + 1 : "main";
    if (strchr(r, '@') || strlen(r) + 1 > vn || !rev_ok(r)) return -1;
    snprintf(rev, vn, "%s", r);
    const char *slash = strchr(repo, '/');
    if (!slash) return name_part_ok(repo, idlen) ? 0 : -1;
    if (strchr(slash + 1, '/')) return -1;
    return name_part_ok(repo, (size_t)(slash - repo)) && name_part_ok(slash + 1, strlen(slash + 1)) ? 0 : -1;
}

int hub_is_model_id(const char *arg)
{
    char repo[256], rev[256];
    return arg && parse_id(arg, repo, sizeof repo, rev, sizeof rev) == 0;
}

void hub_options_init(HubOptions *o)
{
    memset(o, 0, sizeof *o);
    o->offline = -1;
    o->progress = HUB_PROGRESS_AUTO;
}

/* ~/x -> $HOME/x, as Python's expanduser does for these variables. */
static int expand(const char *v, const char *suffix, char *out, size_t n)
{
    const char *home = env("HOME");
    int k;
    if (v[0] == '~' && (v[1] == '/' || v[1] == 0)) {
        if (!home) return -1;
        k = snprintf(out, n, "%s%s%s", home, v + 1, suffix);
    } else {
        k = snprintf(out, n, "%s%s", v, suffix);
    }
    return k < 0 || (size_t)k >= n ? -1 : 0;
}

static int hf_home(const char *suffix, char *out, size_t n)
{
    const char *v;
    if ((v = env("HF_HOME"))) return expand(v, suffix, out, n);
    char tmp[HUB_PATH];
    if ((v = env("XDG_CACHE_HOME"))) {
        if (snprintf(tmp, sizeof tmp, "%s/huggingface", v) >= (int)sizeof tmp) return -1;
        return expand(tmp, suffix, out, n);
    }
    return expand("~/.cache/huggingface", suffix, out, n);
}

int hub_cache_dir(const HubOptions *opt, char *out, size_t outlen)
{
    const char *v;
    if (opt && opt->cache_dir) {
        int k = snprintf(out, outlen, "%s", opt->cache_dir);
        return k < 0 || (size_t)k >= outlen ? -1 : 0;
    }
    if ((v = env("HF_HUB_CACHE")) || (v = env("HUGGINGFACE_HUB_CACHE"))) return expand(v, "", out, outlen);
    return hf_home("/hub", out, outlen);
}

/* Loads the token into h->token ("" if none).  Never prints it. */
static int load_token(Hub *h, const HubOptions *o)
{
    const char *v = NULL;
    h->token[0] = 0;
    if (o->token) { v = o->token; snprintf(h->token_src, sizeof h->token_src, "the options"); }
    else if ((v = env("HF_TOKEN"))) snprintf(h->token_src, sizeof h->token_src, "$HF_TOKEN");
    else if ((v = env("HUGGING_FACE_HUB_TOKEN"))) snprintf(h->token_src, sizeof h->token_src, "$HUGGING_FACE_HUB_TOKEN");
    if (v) {
        if (strlen(v) >= sizeof h->token) return fail(h, "the token from %s is too long", h->token_src);
        snprintf(h->token, sizeof h->token, "%s", v);
    } else {
        char path[HUB_PATH];
        int k = -1;
        if (o->token_path) k = snprintf(path, sizeof path, "%s", o->token_path) < (int)sizeof path ? 0 : -1;
        else if ((v = env("HF_TOKEN_PATH"))) k = expand(v, "", path, sizeof path);
        else k = hf_home("/token", path, sizeof path);
        if (k != 0) return 0;                 /* no HOME: simply no token */
        size_t len = 0;
        char *t = slurp(path, (long)sizeof h->token - 1, &len);
        if (!t) {
            if (errno == ENOENT || errno == ENOTDIR) return 0;
            return fail(h, "cannot read the token file %s: %s", path, strerror(errno == 0 ? EIO : errno));
        }
        memcpy(h->token, t, len + 1);
        wipe(t, len);
        free(t);
        snprintf(h->token_src, sizeof h->token_src, "%s", path);
    }
    /* strip surrounding whitespace (the file ends with a newline or not) */
    size_t n = strlen(h->token), a = 0;
    while (n > 0 && isspace((unsigned char)h->token[n - 1])) h->token[--n] = 0;
    while (a < n && isspace((unsigned char)h->token[a])) a++;
    memmove(h->token, h->token + a, n - a + 1);
    for (const char *p = h->token; *p; p++)
        if ((unsigned char)*p <= ' ' || (unsigned char)*p >= 127) {
            wipe(h->token, sizeof h->token);
            return fail(h, "the token from %s contains spaces or control characters (not printed)", h->token_src);
        }
    return 0;
}

/* ---- the cache ---- */

/* The commit a revision names in the cache, or -1 if unknown. */
static int cached_commit(Hub *h, char *sha, size_t n)
{
    if (is_commit(h->rev)) return snprintf(sha, n, "%s", h->rev) < (int)n ? 0 : -1;
    char path[HUB_PATH];
    if (snprintf(path, sizeof path, "%s/refs/%s", h->repo_dir, h->rev) >= (int)sizeof path) return -1;
    char *t = slurp(path, 256, NULL);
    if (!t) return -1;
    char *s = t;
    while (isspace((unsigned char)*s)) s++;
    size_t k = strlen(s);
    while (k > 0 && isspace((unsigned char)s[k - 1])) s[--k] = 0;
    int ok = safe_token(s) && snprintf(sha, n, "%s", s) < (int)n;
    free(t);
    return ok ? 0 : -1;
}

/* The shard names of an index (unique, in order).  0, or -1 with why. */
static int index_shards(const char *path, Names *out, char *why, size_t wn)
{
    char *text = slurp(path, HUB_MAX_INDEX, NULL);
    if (!text) { snprintf(why, wn, "cannot read %s: %s", path, strerror(errno ? errno : EIO)); return -1; }
    cJSON *j = cJSON_Parse(text);
    free(text);
    cJSON *map = j ? cJSON_GetObjectItemCaseSensitive(j, "weight_map") : NULL;
    if (!cJSON_IsObject(map)) {
        snprintf(why, wn, "%s is not a safetensors index (no \"weight_map\" object)", path);
        cJSON_Delete(j);
        return -1;
    }
    int rc = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, map) {
        if (!cJSON_IsString(e) || !safe_file(e->valuestring) || !ends_with(e->valuestring, ".safetensors")) {
            snprintf(why, wn, "%s names an unusable shard for '%.100s'", path, e->string ? e->string : "?");
            rc = -1;
            break;
        }
        if (!names_has(out, e->valuestring) && names_add(out, e->valuestring) != 0) {
            snprintf(why, wn, "out of memory");
            rc = -1;
            break;
        }
    }
    if (rc == 0 && out->n == 0) { snprintf(why, wn, "%s names no shards", path); rc = -1; }
    cJSON_Delete(j);
    return rc;
}

/* 0 if snapshots/SHA has what a LLaMA runner needs; else 1 and the first
 * missing file in `missing`. */
static int snapshot_missing(Hub *h, const char *snap, const char *sha, char *missing, size_t mn)
{
    char p[HUB_PATH], q[HUB_PATH];
#define HAVE(name) (snprintf(p, sizeof p, "%s/%s", snap, name) < (int)sizeof p && is_file(p))
    if (!HAVE("config.json")) { snprintf(missing, mn, "config.json"); return 1; }
    if (!HAVE("tokenizer.json") && !HAVE("tokenizer.model")) { snprintf(missing, mn, "tokenizer.json"); return 1; }
    if (!HAVE("tokenizer_config.json")) {
        if (snprintf(q, sizeof q, "%s/.no_exist/%s/tokenizer_config.json", h->repo_dir, sha) >= (int)sizeof q ||
            access(q, F_OK) != 0) { snprintf(missing, mn, "tokenizer_config.json"); return 1; }
    }
    if (HAVE("model.safetensors")) return 0;
    if (!HAVE("model.safetensors.index.json")) { snprintf(missing, mn, "model.safetensors"); return 1; }
    Names shards = {0};
    char why[512];
    if (index_shards(p, &shards, why, sizeof why) != 0) {
        names_free(&shards);
        snprintf(missing, mn, "model.safetensors.index.json (%s)", why);
        return 1;
    }
    int rc = 0;
    for (size_t i = 0; i < shards.n && !rc; i++)
        if (!HAVE(shards.v[i])) { snprintf(missing, mn, "%s", shards.v[i]); rc = 1; }
#undef HAVE
    names_free(&shards);
    return rc;
}

static int write_atomic(Hub *h, const char *path, const char *text)
{
    char tmp[HUB_PATH];
    if (pathf(h, tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid()) != 0) return -1;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    if (fd < 0) return fail(h, "cannot create %s: %s", tmp, strerror(errno));
    size_t n = strlen(text);
    ssize_t k = write(fd, text, n);
    int e = errno;
    if (close(fd) != 0 && k == (ssize_t)n) { k = -1; e = errno; }
    if (k != (ssize_t)n) { unlink(tmp); return fail(h, "cannot write %s: %s", tmp, strerror(k < 0 ? e : ENOSPC)); }
    if (rename(tmp, path) != 0) { e = errno; unlink(tmp); return fail(h, "cannot rename %s: %s", tmp, strerror(e)); }
    return 0;
}

static int write_ref(Hub *h, const char *sha)
{
    char path[HUB_PATH], dir[HUB_PATH];
    if (!strcmp(h->rev, sha)) return 0;          /* huggingface_hub writes no ref for a commit */
    if (pathf(h, path, sizeof path, "%s/refs/%s", h->repo_dir, h->rev) != 0) return -1;
    snprintf(dir, sizeof dir, "%s", path);
    *strrchr(dir, '/') = 0;
    if (mkdir_or_fail(h, dir) != 0) return -1;
    return write_atomic(h, path, sha);
}

static int mark_absent(Hub *h, const char *sha, const char *name)
{
    char dir[HUB_PATH], path[HUB_PATH];
    if (pathf(h, dir, sizeof dir, "%s/.no_exist/%s", h->repo_dir, sha) != 0 ||
        pathf(h, path, sizeof path, "%s/%s", dir, name) != 0 || mkdir_or_fail(h, dir) != 0) return -1;
    int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0666);
    if (fd < 0) return fail(h, "cannot create %s: %s", path, strerror(errno));
    close(fd);
    return 0;
}

/* snapshots/SHA/NAME -> ../../blobs/ETAG, replaced atomically. */
static int link_snapshot(Hub *h, const char *snap, const char *name, const char *etag)
{
    char target[512], link[HUB_PATH], tmp[HUB_PATH], cur[512];
    snprintf(target, sizeof target, "../../blobs/%s", etag);
    if (pathf(h, link, sizeof link, "%s/%s", snap, name) != 0 ||
        pathf(h, tmp, sizeof tmp, "%s/.%s.%ld.tmp", snap, name, (long)getpid()) != 0) return -1;
    ssize_t k = readlink(link, cur, sizeof cur - 1);
    if (k >= 0) { cur[k] = 0; if (!strcmp(cur, target)) return 0; }
    unlink(tmp);
    if (symlink(target, tmp) != 0) return fail(h, "cannot create the symlink %s: %s", tmp, strerror(errno));
    if (rename(tmp, link) != 0) {
        int e = errno;
        unlink(tmp);
        return fail(h, "cannot create the symlink %s: %s", link, strerror(e));
    }
    return 0;
}

/* ---- HTTP ---- */

static void resp_reset(Resp *r)
{
    memset(r, 0, sizeof *r);
    r->linked_size = r->content_length = r->range_start = -1;
}

static void copy_value(char *dst, size_t n, const char *v, size_t vlen)
{
    size_t k = 0;
    for (size_t i = 0; i < vlen && k + 1 < n; i++)
        dst[k++] = (v[i] >= ' ' && v[i] < 127) ? v[i] : ' ';
    dst[k] = 0;
}

static size_t on_header(char *buf, size_t size, size_t nitems, void *ud)
{
    Resp *r = ud;
    size_t len = size * nitems;
    if (len >= 5 && !strncmp(buf, "HTTP/", 5)) {
        resp_reset(r);
        const char *sp = memchr(buf, ' ', len);
        if (sp) r->status = strtol(sp + 1, NULL, 10);
        return len;
    }
    const char *colon = memchr(buf, ':', len);
    if (!colon) return len;
    size_t klen = (size_t)(colon - buf);
    const char *v = colon + 1, *end = buf + len;
    while (v < end && (*v == ' ' || *v == '\t')) v++;
    while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' ')) end--;
    size_t vlen = (size_t)(end - v);
#define KEY(name) (klen == sizeof name - 1 && !strncasecmp(buf, name, klen))
    if (KEY("x-repo-commit")) copy_value(r->commit, sizeof r->commit, v, vlen);
    else if (KEY("x-linked-etag")) copy_value(r->linked_etag, sizeof r->linked_etag, v, vlen);
    else if (KEY("etag")) copy_value(r->etag, sizeof r->etag, v, vlen);
    else if (KEY("x-error-code")) copy_value(r->error_code, sizeof r->error_code, v, vlen);
    else if (KEY("x-error-message")) copy_value(r->error_msg, sizeof r->error_msg, v, vlen);
    else if (KEY("x-linked-size")) r->linked_size = strtoll(v, NULL, 10);
    else if (KEY("content-length")) r->content_length = strtoll(v, NULL, 10);
    else if (KEY("location")) r->location_relative = vlen > 0 && v[0] == '/' && !(vlen > 1 && v[1] == '/');
    else if (KEY("content-range")) {
        /* "bytes START-END/TOTAL" */
        if (vlen > 6 && !strncasecmp(v, "bytes ", 6)) r->range_start = strtoll(v + 6, NULL, 10);
    }
#undef KEY
    return len;
}

static void human(char *buf, size_t n, long long b)
{
    if (b < 1000) snprintf(buf, n, "%lld B", b);
    else if (b < 1000000) snprintf(buf, n, "%.1f kB", b / 1e3);
    else if (b < 1000000000) snprintf(buf, n, "%.1f MB", b / 1e6);
    else snprintf(buf, n, "%.2f GB", b / 1e9);
}

/* "\r  NAME  DONE / TOTAL  PCT%  RATE MB/s", at most ten times a second. */
static void progress_draw(Sink *s, long long done, int final)
{
    if (!s->progress) return;
    double t = now_s(), dt = t - s->t0;
    if (!final && s->shown && t - s->last < 0.1) return;
    s->last = t;
    s->shown = 1;
    double rate = dt > 0 ? (done - s->resume_from) / 1e6 / dt : 0;
    char a[32], b[32];
    human(a, sizeof a, done);
    if (s->expect > 0) {
        human(b, sizeof b, s->expect);
        fprintf(s->log, "\r  %-36.36s %10s / %-10s %3d%% %7.1f MB/s ", s->name, a, b,
                (int)(100.0 * done / s->expect), rate);
    } else {
        fprintf(s->log, "\r  %-36.36s %10s %7.1f MB/s ", s->name, a, rate);
    }
    if (final) fputc('\n', s->log);
    fflush(s->log);
}

static int on_progress(void *ud, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow)
{
    Sink *s = ud;
    if (s->r->status >= 200 && s->r->status < 300) progress_draw(s, s->resume_from + (long long)dlnow, 0);
    return 0;
}

static size_t on_body(char *buf, size_t size, size_t nitems, void *ud)
{
    Sink *s = ud;
    size_t n = size * nitems;
    long st = s->r->status;
    if (st < 200 || st >= 300) return n;                  /* error bodies are not data */
    if (s->fd < 0) {                                      /* memory */
        if (s->len + n + 1 > s->max) { s->too_big = 1; return 0; }
        if (s->len + n + 1 > s->cap) {
            size_t cap = s->cap ? s->cap : 65536;
            while (cap < s->len + n + 1) cap *= 2;
            char *nb = realloc(s->mem, cap);
            if (!nb) { s->write_errno = ENOMEM; return 0; }
            s->mem = nb; s->cap = cap;
        }
        memcpy(s->mem + s->len, buf, n);
        s->len += n;
        s->mem[s->len] = 0;
        return n;
    }
    if (s->offset == s->resume_from && s->resume_from > 0) {
        if (st == 200) {                                  /* Range ignored: start over */
            if (ftruncate(s->fd, 0) != 0 || lseek(s->fd, 0, SEEK_SET) != 0) { s->write_errno = errno; return 0; }
            s->offset = s->resume_from = 0;
        } else if (st == 206 && s->r->range_start != s->resume_from) {
            s->restart = 1;
            return 0;
        }
    }
    if (s->expect >= 0 && s->offset + (long long)n > s->expect) { s->overflow = 1; return 0; }
    for (size_t done = 0; done < n;) {
        ssize_t k = write(s->fd, buf + done, n - done);
        if (k < 0) {
            if (errno == EINTR) continue;
            s->write_errno = errno;
            return 0;
        }
        done += (size_t)k;
        s->offset += k;
    }
    return n;
}

static size_t discard(char *buf, size_t size, size_t nitems, void *ud) { return size * nitems; }

/* The token goes only to the endpoint itself, never to a CDN. */
static int to_endpoint(const Hub *h, const char *url)
{
    size_t n = strlen(h->endpoint);
    return !strncmp(url, h->endpoint, n) && url[n] == '/';
}

static CURLcode perform(Hub *h, const char *url, int head, int follow, long long range_from, Sink *s, Resp *r)
{
    CURL *c = h->curl;
    curl_easy_reset(c);
    resp_reset(r);
    struct curl_slist *hd = NULL, *t;
    char line[2200];
    snprintf(line, sizeof line, "User-Agent: ueajc/0.1; libcurl/%s", curl_version_info(CURLVERSION_NOW)->version);
    hd = curl_slist_append(hd, line);
    if (h->token[0] && to_endpoint(h, url)) {
        snprintf(line, sizeof line, "Authorization: Bearer %s", h->token);
        if ((t = curl_slist_append(hd, line))) hd = t;
        wipe(line, sizeof line);
    }
    if (!hd) return CURLE_OUT_OF_MEMORY;
    char range[64];
    h->cerr[0] = 0;
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hd);
    curl_easy_setopt(c, CURLOPT_NOBODY, head ? 1L : 0L);
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, follow ? 1L : 0L);
    curl_easy_setopt(c, CURLOPT_MAXREDIRS, 10L);
#if LIBCURL_VERSION_NUM >= 0x075500
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
#endif
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, r);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, s ? on_body : discard);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, s);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, h->cerr);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, h->connect_timeout);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, h->stall_timeout);
    if (range_from > 0) {
        snprintf(range, sizeof range, "%lld-", range_from);
        curl_easy_setopt(c, CURLOPT_RANGE, range);
    }
    if (s && s->progress) {
        s->t0 = s->last = now_s();
        curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
        curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
        curl_easy_setopt(c, CURLOPT_XFERINFODATA, s);
    }
    CURLcode rc = curl_easy_perform(c);
    for (t = hd; t; t = t->next) wipe(t->data, strlen(t->data));
    curl_slist_free_all(hd);
    if (s && s->shown) progress_draw(s, s->fd >= 0 ? s->offset : (long long)s->len, 1);
    if (h->verbose) {
        char shown[HUB_URL];
        show_url(url, shown, sizeof shown);
        if (range_from > 0) fprintf(h->log, "hub: %s %s (from byte %lld)", head ? "HEAD" : "GET", shown, range_from);
        else fprintf(h->log, "hub: %s %s", head ? "HEAD" : "GET", shown);
        if (rc == CURLE_OK) fprintf(h->log, " -> %ld\n", r->status);
        else fprintf(h->log, " -> %s\n", curl_easy_strerror(rc));
        fflush(h->log);
    }
    return rc;
}

/* One line for a failed transfer.  inc: the .incomplete file, if any. */
static int curl_fail(Hub *h, CURLcode rc, const char *url, const Sink *s, const char *inc)
{
    char shown[HUB_URL];
    show_url(url, shown, sizeof shown);
    const char *why = h->cerr[0] ? h->cerr : curl_easy_strerror(rc);
    switch (rc) {
    case CURLE_COULDNT_CONNECT: case CURLE_COULDNT_RESOLVE_HOST: case CURLE_COULDNT_RESOLVE_PROXY:
        return fail(h, "cannot connect to %s: %s; check HF_ENDPOINT and the network, or set HF_HUB_OFFLINE=1 to use "
                    "only the cache", shown, why);
    case CURLE_WRITE_ERROR:
        if (s && s->write_errno)
            return fail(h, "cannot write %s: %s (downloading %s)", inc ? inc : "the listing", strerror(s->write_errno),
                        shown);
        if (s && s->too_big) return fail(h, "%s: the answer is larger than %ld bytes", shown, HUB_MAX_LISTING);
        if (s && s->overflow)
            return fail(h, "%s sent more than the announced %lld bytes; the partial file was removed", shown,
                        s->expect);
        break;
    case CURLE_PARTIAL_FILE: case CURLE_OPERATION_TIMEDOUT: case CURLE_RECV_ERROR: case CURLE_GOT_NOTHING:
    case CURLE_HTTP2_STREAM: case CURLE_HTTP2:
        if (inc && s) {
            if (s->expect >= 0)
                return fail(h, "download of %s cut short at %lld of %lld bytes (%s); run again to resume from %s",
                            shown, s->offset, s->expect, why, inc);
            return fail(h, "download of %s cut short at %lld bytes (%s); run again to retry", shown, s->offset, why);
        }
        break;
    default:
        break;
    }
    return fail(h, "request to %s failed: %s", shown, why);
}

enum { ASK_LISTING, ASK_FILE };

static int http_fail(Hub *h, const Resp *r, const char *url, int what, const char *file)
{
    char shown[HUB_URL], hubmsg[300] = "";
    show_url(url, shown, sizeof shown);
    if (r->error_msg[0]) snprintf(hubmsg, sizeof hubmsg, " (hub: %s)", r->error_msg);
    if (r->status == 401)
        return fail(h, "HTTP 401 from %s: %s%s needs authentication (%s): set HF_TOKEN to a token with read "
                    "access (or run `huggingface-cli login`); gated models such as meta-llama/* also need their "
                    "licence accepted on %s/%s%s", shown, h->repo,
                    !strcmp(r->error_code, "RepoNotFound") ? " does not exist or" : "",
                    h->token[0] ? "the token was refused" : "no token was found", h->endpoint, h->repo, hubmsg);
    if (r->status == 403)
        return fail(h, "HTTP 403 from %s: the token may not read %s: gated models need their licence accepted on "
                    "%s/%s by the token's account (then set HF_TOKEN to that token)%s", shown, h->repo, h->endpoint,
                    h->repo, hubmsg);
    if (r->status == 404) {
        if (!strcmp(r->error_code, "RevisionNotFound"))
            return fail(h, "HTTP 404 from %s: revision '%s' not found in %s%s", shown, h->rev, h->repo, hubmsg);
        if (what == ASK_FILE && strcmp(r->error_code, "RepoNotFound") != 0)
            return fail(h, "HTTP 404 from %s: file '%s' not found in %s@%s%s", shown, file, h->repo, h->rev, hubmsg);
        return fail(h, "HTTP 404 from %s: repository '%s' not found (check the model id; a private repository needs "
                    "HF_TOKEN)%s", shown, h->repo, hubmsg);
    }
    if (r->status == 416 && file)
        return fail(h, "HTTP 416 from %s: the server refused to resume '%s'", shown, file);
    return fail(h, "HTTP %ld from %s%s", r->status, shown, hubmsg);
}

/* ---- downloading ---- */

static int list_repo(Hub *h, char *sha, size_t shan, Names *files)
{
    char url[HUB_URL], qrev[800];
    url_quote(h->rev, qrev, sizeof qrev);
    if (pathf(h, url, sizeof url, "%s/api/models/%s/revision/%s", h->endpoint, h->repo, qrev) != 0) return -1;
    Resp r;
    Sink s = {.r = &r, .fd = -1, .max = (size_t)HUB_MAX_LISTING, .expect = -1};
    CURLcode rc = perform(h, url, 0, 1, 0, &s, &r);
    int ret = -1;
    if (rc != CURLE_OK) curl_fail(h, rc, url, &s, NULL);
    else if (r.status != 200) http_fail(h, &r, url, ASK_LISTING, NULL);
    else {
        char shown[HUB_URL];
        show_url(url, shown, sizeof shown);
        cJSON *j = s.mem ? cJSON_Parse(s.mem) : NULL;
        const cJSON *jsha = j ? cJSON_GetObjectItemCaseSensitive(j, "sha") : NULL;
        const cJSON *sib = j ? cJSON_GetObjectItemCaseSensitive(j, "siblings") : NULL, *e;
        if (!cJSON_IsObject(j)) fail(h, "%s: the answer is not a JSON object", shown);
        else if (!cJSON_IsString(jsha) || !safe_token(jsha->valuestring) || strlen(jsha->valuestring) >= shan)
            fail(h, "%s: the answer has no usable \"sha\" (commit hash)", shown);
        else if (!cJSON_IsArray(sib)) fail(h, "%s: the answer has no \"siblings\" list", shown);
        else {
            snprintf(sha, shan, "%s", jsha->valuestring);
            ret = 0;
            cJSON_ArrayForEach(e, sib) {
                const cJSON *fn = cJSON_GetObjectItemCaseSensitive(e, "rfilename");
                if (cJSON_IsString(fn) && names_add(files, fn->valuestring) != 0) { ret = fail(h, "out of memory"); break; }
            }
        }
        cJSON_Delete(j);
    }
    free(s.mem);
    return ret;
}

/* HEAD: the ETag, size and download URL of one file. */
static int file_meta(Hub *h, const char *url0, const char *name, char *etag, size_t en, long long *size,
                     char *dl, size_t dln)
{
    char url[HUB_URL];
    Resp r;
    snprintf(url, sizeof url, "%s", url0);
    for (int hop = 0;; hop++) {
        CURLcode rc = perform(h, url, 1, 0, 0, NULL, &r);
        if (rc != CURLE_OK) return curl_fail(h, rc, url, NULL, NULL);
        if (r.status >= 300 && r.status < 400) {
            char *loc = NULL;
            curl_easy_getinfo(h->curl, CURLINFO_REDIRECT_URL, &loc);
            if (!loc || strlen(loc) >= sizeof url) return http_fail(h, &r, url, ASK_FILE, name);
            if (r.location_relative && hop < 5) { snprintf(url, sizeof url, "%s", loc); continue; }
            snprintf(dl, dln, "%s", loc);
            break;
        }
        if (r.status < 200 || r.status >= 300) return http_fail(h, &r, url, ASK_FILE, name);
        snprintf(dl, dln, "%s", url);
        break;
    }
    char shown[HUB_URL];
    show_url(url, shown, sizeof shown);
    /* huggingface_hub's _normalize_etag: drop a W/ prefix and the quotes */
    const char *e = r.linked_etag[0] ? r.linked_etag : r.etag;
    if (!strncmp(e, "W/", 2)) e += 2;
    size_t k = strlen(e);
    if (k >= 2 && e[0] == '"' && e[k - 1] == '"') { e++; k -= 2; }
    if (k == 0) return fail(h, "%s: the server sent no ETag (is HF_ENDPOINT a Hugging Face hub?)", shown);
    if (k >= en) k = en - 1;
    memcpy(etag, e, k);
    etag[k] = 0;
    if (!safe_token(etag)) return fail(h, "%s: unusable ETag '%.80s'", shown, etag);
    *size = r.linked_size >= 0 ? r.linked_size : (r.status == 200 ? r.content_length : -1);
    return 0;
}

static int download_blob(Hub *h, const char *name, const char *url, const char *blob, long long size)
{
    char inc[HUB_PATH], shown[HUB_URL];
    show_url(url, shown, sizeof shown);
    if (pathf(h, inc, sizeof inc, "%s.incomplete", blob) != 0) return -1;
    int fd = open(inc, O_WRONLY | O_CREAT | O_CLOEXEC, 0666);
    if (fd < 0) return fail(h, "cannot create %s: %s", inc, strerror(errno));
    struct stat st;
    long long have = fstat(fd, &st) == 0 ? (long long)st.st_size : 0;
    if (have > 0 && (size < 0 || have > size)) {          /* unknown size or too long: start over */
        if (ftruncate(fd, 0) != 0) { close(fd); return fail(h, "cannot truncate %s: %s", inc, strerror(errno)); }
        have = 0;
    }
    if (have > 0 && h->verbose) fprintf(h->log, "hub: resuming %s at byte %lld\n", name, have);
    for (int attempt = 0; size < 0 || have < size; attempt++) {
        if (lseek(fd, have, SEEK_SET) != have) { close(fd); return fail(h, "cannot seek in %s: %s", inc, strerror(errno)); }
        Resp r;
        Sink s = {.r = &r, .fd = fd, .offset = have, .resume_from = have, .expect = size, .name = name,
                  .log = h->log, .progress = h->progress};
        CURLcode rc = perform(h, url, 0, 1, have, &s, &r);
        if ((s.restart || r.status == 416) && attempt == 0) {  /* the server would not resume: from zero */
            if (ftruncate(fd, 0) != 0) { close(fd); return fail(h, "cannot truncate %s: %s", inc, strerror(errno)); }
            have = 0;
            continue;
        }
        int bad = rc != CURLE_OK || r.status < 200 || r.status >= 300 || s.restart;
        if (bad) {
            close(fd);
            if (s.overflow || (is_file(inc) && stat(inc, &st) == 0 && st.st_size == 0)) unlink(inc);
            if (rc != CURLE_OK) return curl_fail(h, rc, url, &s, inc);
            if (s.restart) return fail(h, "%s: the server resumed at the wrong offset", shown);
            return http_fail(h, &r, url, ASK_FILE, name);
        }
        have = s.offset;
        break;
    }
    if (fsync(fd) != 0) {
        int e = errno;
        close(fd);
        return fail(h, "cannot write %s: %s (downloading %s)", inc, strerror(e), shown);
    }
    if (close(fd) != 0) return fail(h, "cannot write %s: %s (downloading %s)", inc, strerror(errno), shown);
    if (stat(inc, &st) != 0) return fail(h, "cannot stat %s: %s", inc, strerror(errno));
    if (size >= 0 && (long long)st.st_size != size) {
        unlink(inc);
        return fail(h, "%s: got %lld bytes, the hub announced %lld; the partial file was removed, run again",
                    shown, (long long)st.st_size, size);
    }
    if (rename(inc, blob) != 0) return fail(h, "cannot rename %s to %s: %s", inc, blob, strerror(errno));
    return 0;
}

/* One file of the snapshot: metadata, blob (unless present), symlink. */
static int fetch_file(Hub *h, const char *sha, const char *snap, const char *name)
{
    char url[HUB_URL], dl[HUB_URL], etag[160], blob[HUB_PATH], lock[HUB_PATH];
    long long size = -1;
    if (pathf(h, url, sizeof url, "%s/%s/resolve/%s/%s", h->endpoint, h->repo, sha, name) != 0) return -1;
    if (file_meta(h, url, name, etag, sizeof etag, &size, dl, sizeof dl) != 0) return -1;
    if (pathf(h, blob, sizeof blob, "%s/blobs/%s", h->repo_dir, etag) != 0 ||
        pathf(h, lock, sizeof lock, "%s/%s.lock", h->lock_dir, etag) != 0) return -1;
    if (!is_file(blob)) {
        int lfd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
        if (lfd < 0) return fail(h, "cannot create the lock %s: %s", lock, strerror(errno));
        if (flock(lfd, LOCK_EX | LOCK_NB) != 0) {
            if (h->verbose || h->progress) fprintf(h->log, "hub: waiting for another download of %s (%s)\n", name, lock);
            while (flock(lfd, LOCK_EX) != 0 && errno == EINTR) {}
        }
        int rc = is_file(blob) ? 0 : download_blob(h, name, dl, blob, size);
        close(lfd);
        if (rc != 0) return -1;
    } else if (h->verbose) {
        fprintf(h->log, "hub: %s already in %s/blobs\n", name, h->repo_dir);
    }
    return link_snapshot(h, snap, name, etag);
}

static int download_repo(Hub *h, char *snap, size_t snapn)
{
    char sha[128], missing[600], why[600], path[HUB_PATH];
    Names files = {0}, shards = {0};
    int rc = -1;
    if (list_repo(h, sha, sizeof sha, &files) != 0) goto done;
    if (pathf(h, snap, snapn, "%s/snapshots/%s", h->repo_dir, sha) != 0) goto done;
    if (pathf(h, path, sizeof path, "%s/blobs", h->repo_dir) != 0 || mkdir_or_fail(h, path) != 0 ||
        mkdir_or_fail(h, snap) != 0 || mkdir_or_fail(h, h->lock_dir) != 0 || write_ref(h, sha) != 0) goto done;
    if (h->verbose) fprintf(h->log, "hub: %s@%s is commit %s (%zu files upstream)\n", h->repo, h->rev, sha, files.n);
    /* the metadata and the tokenizer first (the index names the shards) */
    for (size_t i = 0; i < files.n; i++) {
        const char *f = files.v[i];
        if (safe_file(f) && (ends_with(f, ".json") || !strcmp(f, "tokenizer.model")) &&
            fetch_file(h, sha, snap, f) != 0) goto done;
    }
    if (names_has(&files, "model.safetensors")) {
        if (fetch_file(h, sha, snap, "model.safetensors") != 0) goto done;
    } else if (names_has(&files, "model.safetensors.index.json")) {
        if (pathf(h, path, sizeof path, "%s/model.safetensors.index.json", snap) != 0) goto done;
        if (index_shards(path, &shards, why, sizeof why) != 0) { fail(h, "%s@%s: %s", h->repo, h->rev, why); goto done; }
        for (size_t i = 0; i < shards.n; i++) {
            if (!names_has(&files, shards.v[i])) {
                fail(h, "%s@%s: model.safetensors.index.json names %s, which the repository does not have",
                     h->repo, h->rev, shards.v[i]);
                goto done;
            }
            if (fetch_file(h, sha, snap, shards.v[i]) != 0) goto done;
        }
    } else {
        const char *other = NULL;
        for (size_t i = 0; i < files.n && !other; i++)
            if (ends_with(files.v[i], ".bin") || ends_with(files.v[i], ".gguf") || ends_with(files.v[i], ".pth") ||
                ends_with(files.v[i], ".pt") || ends_with(files.v[i], ".safetensors")) other = files.v[i];
        fail(h, "%s@%s has no model.safetensors or model.safetensors.index.json%s%s%s", h->repo, h->rev,
             other ? " (it has " : "", other ? other : "", other ? "; only safetensors checkpoints are supported)" : "");
        goto done;
    }
    static const char *const optional[] = {"tokenizer_config.json", "generation_config.json"};
    for (size_t i = 0; i < sizeof optional / sizeof optional[0]; i++)
        if (!names_has(&files, optional[i]) && mark_absent(h, sha, optional[i]) != 0) goto done;
    if (snapshot_missing(h, snap, sha, missing, sizeof missing)) {
        fail(h, "%s@%s lacks %s, which a LLaMA runner needs", h->repo, h->rev, missing);
        goto done;
    }
    rc = 0;
done:
    names_free(&files);
    names_free(&shards);
    return rc;
}

/* ---- the entry point ---- */

int hub_resolve(const char *model_arg, const HubOptions *opt, char *dir_out, size_t dirlen, char *err, size_t errlen)
{
    HubOptions defaults;
    if (!opt) { hub_options_init(&defaults); opt = &defaults; }
    char dummy[2];
    if (!err || errlen == 0) { err = dummy; errlen = sizeof dummy; }
    err[0] = 0;
    if (dir_out && dirlen) dir_out[0] = 0;
    Hub *h = calloc(1, sizeof *h);
    if (!h) { snprintf(err, errlen, "out of memory"); return -1; }
    h->err = err;
    h->errlen = errlen;
    int rc = -1;
    struct stat st;
    char snap[HUB_PATH], missing[600], sha[128];

    if (!model_arg || !*model_arg) { fail(h, "no model given (a directory or a model id such as ORG/NAME)"); goto out; }
    if (stat(model_arg, &st) == 0) {
        if (!S_ISDIR(st.st_mode)) {
            fail(h, "%s is a file; -m takes a model directory or a model id such as meta-llama/Llama-3.2-1B", model_arg);
            goto out;
        }
        if (!dir_out || (size_t)snprintf(dir_out, dirlen, "%s", model_arg) >= dirlen) { fail(h, "path too long"); goto out; }
        rc = 0;
        goto out;
    }
    if (parse_id(model_arg, h->repo, sizeof h->repo, h->rev, sizeof h->rev) != 0) {
        fail(h, "'%s' is neither a directory nor a model id (ORG/NAME or ORG/NAME@REVISION)", model_arg);
        goto out;
    }
    if (hub_cache_dir(opt, h->cache, sizeof h->cache) != 0) {
        fail(h, "cannot place the Hugging Face cache: set HF_HUB_CACHE or HF_HOME");
        goto out;
    }
    char folder[300];
    snprintf(folder, sizeof folder, "models--%s", h->repo);
    for (char *p = folder; *p; p++)
        if (*p == '/') { memmove(p + 2, p + 1, strlen(p + 1) + 1); p[0] = p[1] = '-'; break; }
    if (pathf(h, h->repo_dir, sizeof h->repo_dir, "%s/%s", h->cache, folder) != 0 ||
        pathf(h, h->lock_dir, sizeof h->lock_dir, "%s/.locks/%s", h->cache, folder) != 0) goto out;
    h->offline = opt->offline >= 0 ? opt->offline != 0 : truthy(env("HF_HUB_OFFLINE"));
    h->log = opt->log ? opt->log : stderr;
    h->verbose = opt->verbose;
    h->connect_timeout = opt->connect_timeout_s > 0 ? opt->connect_timeout_s : 15;
    h->stall_timeout = opt->stall_timeout_s > 0 ? opt->stall_timeout_s : 60;
    h->progress = opt->progress == HUB_PROGRESS_ALWAYS ||
                  (opt->progress == HUB_PROGRESS_AUTO && isatty(fileno(h->log)) &&
                   !truthy(env("HF_HUB_DISABLE_PROGRESS_BARS")));

    /* 1. the cache */
    int have_commit = cached_commit(h, sha, sizeof sha) == 0;
    missing[0] = 0;
    if (have_commit) {
        if (pathf(h, snap, sizeof snap, "%s/snapshots/%s", h->repo_dir, sha) != 0) goto out;
        if (!snapshot_missing(h, snap, sha, missing, sizeof missing)) {
            if (h->verbose) fprintf(h->log, "hub: %s@%s found in %s (no network)\n", h->repo, h->rev, snap);
            if (!dir_out || (size_t)snprintf(dir_out, dirlen, "%s", snap) >= dirlen) { fail(h, "path too long"); goto out; }
            rc = 0;
            goto out;
        }
    }
    if (h->offline) {
        if (have_commit)
            fail(h, "offline (HF_HUB_OFFLINE=1) and %s@%s is incomplete in the cache %s: %s is missing; run once "
                 "with network access", h->repo, h->rev, h->repo_dir, missing);
        else
            fail(h, "offline (HF_HUB_OFFLINE=1) and %s@%s is not in the cache %s; run once with network access or "
                 "unset HF_HUB_OFFLINE", h->repo, h->rev, h->cache);
        goto out;
    }

    /* 2. the network */
    const char *ep = opt->endpoint ? opt->endpoint : env("HF_ENDPOINT");
    if (!ep) ep = HUB_DEFAULT_ENDPOINT;
    if (strncmp(ep, "http://", 7) && strncmp(ep, "https://", 8)) {
        fail(h, "the endpoint '%.200s' is not an http:// or https:// URL (HF_ENDPOINT)", ep);
        goto out;
    }
    if ((size_t)snprintf(h->endpoint, sizeof h->endpoint, "%s", ep) >= sizeof h->endpoint) { fail(h, "HF_ENDPOINT too long"); goto out; }
    for (size_t k = strlen(h->endpoint); k > 0 && h->endpoint[k - 1] == '/';) h->endpoint[--k] = 0;
    if (load_token(h, opt) != 0) goto out;
    if (h->verbose)
        fprintf(h->log, "hub: downloading %s@%s from %s into %s (%s%s)\n", h->repo, h->rev, h->endpoint,
                h->repo_dir, h->token[0] ? "with the token from " : "no token", h->token[0] ? h->token_src : "");
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) { fail(h, "cannot initialise libcurl"); goto out; }
    h->curl = curl_easy_init();
    if (!h->curl) fail(h, "cannot initialise libcurl");
    else if (download_repo(h, snap, sizeof snap) == 0) {
        if (!dir_out || (size_t)snprintf(dir_out, dirlen, "%s", snap) >= dirlen) fail(h, "path too long");
        else rc = 0;
    }
    if (h->curl) curl_easy_cleanup(h->curl);
    curl_global_cleanup();
out:
    wipe(h->token, sizeof h->token);
    free(h);
    return rc;
}
