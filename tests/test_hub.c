/* test_hub.c - model ids, the Hugging Face cache and downloads (runtime/hub.c).
 *
 * Every network test talks to tests/hub_server.py, a stand-in for the hub
 * run with /usr/bin/python3 on 127.0.0.1 and an ephemeral port (it prints
 * the port; nothing else is ever contacted).  The server writes its
 * fixture files and a manifest (REPO FILE ETAG SIZE) so the tests know the
 * expected bytes, blob names and commits, and it logs one line per
 * request (method, path, Range, whether a correct token came - never the
 * token), so the tests can tell what went over the wire: nothing when the
 * cache is complete, a Range request when resuming, never a *.bin.
 *
 * Each test (forked by Check) starts its own server through a pipe on its
 * stdin: the server exits when that pipe closes, i.e. when the test
 * process ends however it ends, and the checked teardown also stops it.
 * HOME, HF_HOME and HF_ENDPOINT are pointed into a temporary directory and
 * at a closed 127.0.0.1 port before every test, so no test can touch the
 * user's cache or the real hub.  The base directory is made and removed by
 * the parent process (unchecked fixture), so even a failing test leaves
 * nothing behind.
 */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hub.h"

#define TOKEN "hf_testTOKENabcdef0123456789"
#define WRONG "hf_wrongTOKEN9876543210"
#define TINY "test-org/tiny-llama"
#define PBUF 4096
/* snprintf into a buffer, failing the test if it does not fit */
#define FMT(buf, ...) ck_assert_msg(snprintf((buf), sizeof(buf), __VA_ARGS__) < (int)sizeof(buf), "path too long")
#define FMTN(buf, n, ...) ck_assert_msg(snprintf((buf), (n), __VA_ARGS__) < (int)(n), "path too long")

static char basedir[256];
static char tdir[320];
static char cachedir[PBUF], fixdir[PBUF], srvlog[PBUF], clientlog[PBUF];
static char endpoint[128];
static pid_t srv_pid = -1;
static int srv_in = -1;
static FILE *hlog;

/* ---- fixtures ---- */

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    remove(path);
    return 0;
}

static void base_setup(void)
{
    FMT(basedir, "/tmp/ueaj_hub_XXXXXX");
    if (!mkdtemp(basedir)) basedir[0] = '\0';
}

static void base_teardown(void)
{
    if (basedir[0]) nftw(basedir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static void stop_server(void)
{
    if (srv_pid > 0) {
        close(srv_in);
        kill(srv_pid, SIGTERM);
        waitpid(srv_pid, NULL, 0);
    }
    srv_pid = -1;
    srv_in = -1;
}

static void test_setup(void)
{
    ck_assert_msg(basedir[0] != '\0', "no base directory");
    FMT(tdir, "%s/tXXXXXX", basedir);
    ck_assert_ptr_nonnull(mkdtemp(tdir));
    char p[PBUF];
    FMT(p, "%s/home", tdir);
    mkdir(p, 0755);
    setenv("HOME", p, 1);
    FMT(p, "%s/hfhome", tdir);
    mkdir(p, 0755);
    setenv("HF_HOME", p, 1);
    setenv("HF_ENDPOINT", "http://127.0.0.1:9", 1);   /* closed: any stray request fails fast */
    static const char *const unset[] = {"HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE",
                                        "HF_TOKEN_PATH", "HF_HUB_OFFLINE", "HF_HUB_DISABLE_PROGRESS_BARS",
                                        "XDG_CACHE_HOME"};
    for (size_t i = 0; i < sizeof unset / sizeof unset[0]; i++) unsetenv(unset[i]);
    /* libcurl honours proxy variables; the tests must reach 127.0.0.1 directly and nothing else */
    static const char *const proxies[] = {"http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY",
                                          "all_proxy"};
    for (size_t i = 0; i < sizeof proxies / sizeof proxies[0]; i++) unsetenv(proxies[i]);
    setenv("no_proxy", "*", 1);
    setenv("NO_PROXY", "*", 1);
    FMT(cachedir, "%s/cache", tdir);
    FMT(fixdir, "%s/fixtures", tdir);
    FMT(srvlog, "%s/server.log", tdir);
    FMT(clientlog, "%s/client.log", tdir);
    FMT(endpoint, "http://127.0.0.1:9");
    mkdir(fixdir, 0755);
    hlog = fopen(clientlog, "w+");
    ck_assert_ptr_nonnull(hlog);
}

static void test_teardown(void)
{
    stop_server();
    if (hlog) fclose(hlog);
    hlog = NULL;
}

/* Starts hub_server.py with the given extra arguments (NULL-terminated). */
static void start_server_v(const char *const *extra)
{
    const char *root = getenv("UEAJ_ROOT");
    char script[PBUF];
    FMT(script, "%s/tests/hub_server.py", root ? root : ".");
    const char *argv[32];
    int n = 0;
    argv[n++] = "/usr/bin/python3";
    argv[n++] = script;
    argv[n++] = "--fixture-dir"; argv[n++] = fixdir;
    argv[n++] = "--log"; argv[n++] = srvlog;
    argv[n++] = "--max-seconds"; argv[n++] = "60";
    for (; extra && *extra && n < 30; extra++) argv[n++] = *extra;
    argv[n] = NULL;
    int in[2], out[2];
    ck_assert_int_eq(pipe(in), 0);
    ck_assert_int_eq(pipe(out), 0);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        dup2(in[0], 0);
        dup2(out[1], 1);
        close(in[0]); close(in[1]); close(out[0]); close(out[1]);
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    close(in[0]);
    close(out[1]);
    srv_pid = pid;
    srv_in = in[1];
    char line[64] = "";
    size_t k = 0;
    struct pollfd pfd = {.fd = out[0], .events = POLLIN};
    while (k + 1 < sizeof line && poll(&pfd, 1, 15000) > 0) {
        ssize_t r = read(out[0], line + k, 1);
        if (r <= 0 || line[k] == '\n') break;
        k++;
    }
    line[k] = 0;
    close(out[0]);
    int port = atoi(line);
    ck_assert_msg(port > 0, "hub_server.py did not start (got '%s'; is /usr/bin/python3 there?)", line);
    FMT(endpoint, "http://127.0.0.1:%d", port);
}

#define start_server(...) start_server_v((const char *const[]){__VA_ARGS__, NULL})
#define start_plain_server() start_server_v(NULL)

static HubOptions opts(void)
{
    HubOptions o;
    hub_options_init(&o);
    o.endpoint = endpoint;
    o.cache_dir = cachedir;
    o.token = "";
    o.offline = 0;
    o.progress = HUB_PROGRESS_NEVER;
    o.log = hlog;
    o.connect_timeout_s = 5;
    o.stall_timeout_s = 10;
    return o;
}

/* ---- helpers ---- */

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    size_t got = fread(buf, 1, (size_t)n, f);
    fclose(f);
    buf[got] = 0;
    if (len) *len = got;
    return buf;
}

static int count_lines(const char *path, const char *needle)
{
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    char line[2048];
    int n = 0;
    while (fgets(line, sizeof line, f)) if (!needle || strstr(line, needle)) n++;
    fclose(f);
    return n;
}

/* From the server's manifest: the ETag (blob name) of REPO FILE, or the commit for "@commit". */
static void manifest(const char *repo, const char *file, char *out, size_t n)
{
    char path[PBUF], line[1024], r[256], f[256], e[256];
    FMT(path, "%s/manifest.txt", fixdir);
    FILE *m = fopen(path, "r");
    ck_assert_msg(m != NULL, "no manifest");
    out[0] = 0;
    while (fgets(line, sizeof line, m))
        if (sscanf(line, "%255s %255s %255s", r, f, e) == 3 && !strcmp(r, repo) && !strcmp(f, file))
            FMTN(out, n, "%s", e);
    fclose(m);
    ck_assert_msg(out[0], "%s %s not in the manifest", repo, file);
}

static void repo_dir(const char *repo, char *out, size_t n)
{
    char folder[256];
    FMT(folder, "%s", repo);
    char *slash = strchr(folder, '/');
    if (slash) { memmove(slash + 2, slash + 1, strlen(slash + 1) + 1); slash[0] = slash[1] = '-'; }
    FMTN(out, n, "%s/models--%s", cachedir, folder);
}

static void snap_dir(const char *repo, char *out, size_t n)
{
    char rd[PBUF], commit[128];
    repo_dir(repo, rd, sizeof rd);
    manifest(repo, "@commit", commit, sizeof commit);
    FMTN(out, n, "%s/snapshots/%s", rd, commit);
}

static void assert_same_file(const char *a, const char *b)
{
    size_t na = 0, nb = 0;
    char *x = slurp(a, &na), *y = slurp(b, &nb);
    ck_assert_msg(x && y, "cannot read %s or %s", a, b);
    ck_assert_msg(na == nb && memcmp(x, y, na) == 0, "%s and %s differ", a, b);
    free(x);
    free(y);
}

/* The snapshot file is a symlink ../../blobs/ETAG with the fixture's bytes. */
static void assert_cached(const char *repo, const char *file)
{
    char snap[PBUF], link[PBUF], target[512], want[512], etag[256], fix[PBUF];
    snap_dir(repo, snap, sizeof snap);
    manifest(repo, file, etag, sizeof etag);
    FMT(link, "%s/%s", snap, file);
    struct stat st;
    ck_assert_msg(lstat(link, &st) == 0 && S_ISLNK(st.st_mode), "%s is not a symlink", link);
    ssize_t k = readlink(link, target, sizeof target - 1);
    ck_assert_int_gt(k, 0);
    target[k] = 0;
    FMT(want, "../../blobs/%s", etag);
    ck_assert_str_eq(target, want);
    FMT(fix, "%s/%s/%s", fixdir, repo, file);
    char *slash = strchr(fix + strlen(fixdir) + 1, '/');
    memmove(slash + 2, slash + 1, strlen(slash + 1) + 1);
    slash[0] = slash[1] = '-';
    assert_same_file(link, fix);
}

static int exists(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0;
}

static int count_incomplete(const char *repo)
{
    char dir[PBUF];
    repo_dir(repo, dir, sizeof dir);
    strncat(dir, "/blobs", sizeof dir - strlen(dir) - 1);
    DIR *d = opendir(dir);
    if (!d) return 0;
    int n = 0;
    for (struct dirent *e; (e = readdir(d));) if (strstr(e->d_name, ".incomplete")) n++;
    closedir(d);
    return n;
}

/* Every error is one line, never holds a token or a CDN signature. */
static void assert_clean_message(const char *err)
{
    ck_assert_msg(err[0] != 0, "empty error message");
    ck_assert_msg(!strchr(err, '\n'), "multi-line message: %s", err);
    ck_assert_msg(!strstr(err, TOKEN) && !strstr(err, WRONG), "token in message: %s", err);
    ck_assert_msg(!strstr(err, "Signature"), "CDN query string in message: %s", err);
}

static void assert_log_clean(void)
{
    fflush(hlog);
    char *text = slurp(clientlog, NULL);
    ck_assert_ptr_nonnull(text);
    ck_assert_msg(!strstr(text, TOKEN) && !strstr(text, WRONG), "token in the log");
    ck_assert_msg(!strstr(text, "Signature"), "CDN query string in the log");
    free(text);
}

#define RESOLVE_OK(id, o, dir)                                                                \
    do {                                                                                      \
        char err_[2048];                                                                      \
        int rc_ = hub_resolve((id), (o), (dir), sizeof(dir), err_, sizeof err_);              \
        ck_assert_msg(rc_ == 0, "hub_resolve(%s) failed: %s", (id), err_);                    \
    } while (0)

#define RESOLVE_FAIL(id, o, err)                                                              \
    do {                                                                                      \
        char dir_[4096];                                                                      \
        int rc_ = hub_resolve((id), (o), dir_, sizeof dir_, (err), sizeof(err));              \
        ck_assert_msg(rc_ == -1, "hub_resolve(%s) should fail", (id));                        \
        assert_clean_message(err);                                                            \
    } while (0)

#define ASSERT_HAS(s, sub) ck_assert_msg(strstr((s), (sub)) != NULL, "'%s' lacks '%s'", (s), (sub))

/* ---- tests ---- */

START_TEST(test_fresh_download_layout)
{
    start_plain_server();
    HubOptions o = opts();
    char dir[4096], want[PBUF], rd[PBUF], p[PBUF], commit[128];
    RESOLVE_OK(TINY, &o, dir);
    snap_dir(TINY, want, sizeof want);
    ck_assert_str_eq(dir, want);
    repo_dir(TINY, rd, sizeof rd);
    manifest(TINY, "@commit", commit, sizeof commit);
    FMT(p, "%s/refs/main", rd);
    char *ref = slurp(p, NULL);
    ck_assert_ptr_nonnull(ref);
    ck_assert_str_eq(ref, commit);                        /* no newline, as huggingface_hub writes it */
    free(ref);
    static const char *const wanted[] = {"config.json", "tokenizer.json", "tokenizer_config.json",
                                         "generation_config.json", "special_tokens_map.json", "model.safetensors"};
    for (size_t i = 0; i < sizeof wanted / sizeof wanted[0]; i++) assert_cached(TINY, wanted[i]);
    static const char *const unwanted[] = {"pytorch_model.bin", "model.gguf", "original", "README.md", ".gitattributes"};
    for (size_t i = 0; i < sizeof unwanted / sizeof unwanted[0]; i++) {
        FMT(p, "%s/%s", dir, unwanted[i]);
        ck_assert_msg(!exists(p), "%s was fetched", unwanted[i]);
    }
    ck_assert_int_eq(count_lines(srvlog, ".bin"), 0);
    ck_assert_int_eq(count_lines(srvlog, ".gguf"), 0);
    ck_assert_int_eq(count_lines(srvlog, "original"), 0);
    ck_assert_int_eq(count_lines(srvlog, "README"), 0);
    ck_assert_int_eq(count_lines(srvlog, "auth=ok") + count_lines(srvlog, "auth=bad"), 0);  /* no token: none sent */
    ck_assert_int_eq(count_lines(srvlog, "GET /api/models/test-org/tiny-llama/revision/main "), 1);
    ck_assert_int_eq(count_incomplete(TINY), 0);
    FMT(p, "%s/.locks/models--test-org--tiny-llama", cachedir);
    ck_assert(exists(p));
    FMT(p, "%s/blobs", rd);
    DIR *d = opendir(p);
    int nblobs = 0;
    for (struct dirent *e; d && (e = readdir(d));) nblobs += e->d_name[0] != '.';
    if (d) closedir(d);
    ck_assert_int_eq(nblobs, 6);
    assert_log_clean();
}
END_TEST

START_TEST(test_second_resolve_no_network)
{
    start_plain_server();
    HubOptions o = opts();
    char dir1[4096], dir2[4096], dir3[4096];
    RESOLVE_OK(TINY, &o, dir1);
    int n = count_lines(srvlog, NULL);
    ck_assert_int_gt(n, 0);
    RESOLVE_OK(TINY, &o, dir2);
    ck_assert_str_eq(dir1, dir2);
    ck_assert_int_eq(count_lines(srvlog, NULL), n);        /* not one request */
    stop_server();                                         /* and with no server at all */
    RESOLVE_OK(TINY, &o, dir3);
    ck_assert_str_eq(dir1, dir3);
    RESOLVE_OK(TINY "@main", &o, dir3);
    ck_assert_str_eq(dir1, dir3);
}
END_TEST

START_TEST(test_offline)
{
    start_plain_server();
    HubOptions o = opts();
    char dir[4096], err[2048], p[PBUF];
    o.offline = 1;                                         /* empty cache: a clear error, no request */
    RESOLVE_FAIL(TINY, &o, err);
    ASSERT_HAS(err, "HF_HUB_OFFLINE");
    ASSERT_HAS(err, TINY);
    ASSERT_HAS(err, cachedir);
    ck_assert_int_eq(count_lines(srvlog, NULL), 0);
    o.offline = 0;
    RESOLVE_OK(TINY, &o, dir);
    stop_server();
    o.offline = 1;
    RESOLVE_OK(TINY, &o, dir);
    /* from the environment */
    o.offline = -1;
    setenv("HF_HUB_OFFLINE", "1", 1);
    RESOLVE_OK(TINY, &o, dir);
    RESOLVE_FAIL("test-org/tiny-sharded", &o, err);
    ASSERT_HAS(err, "HF_HUB_OFFLINE");
    ASSERT_HAS(err, "test-org/tiny-sharded");
    /* an incomplete snapshot names the missing file */
    FMT(p, "%s/model.safetensors", dir);
    ck_assert_int_eq(unlink(p), 0);
    RESOLVE_FAIL(TINY, &o, err);
    ASSERT_HAS(err, "model.safetensors is missing");
    ASSERT_HAS(err, "models--test-org--tiny-llama");
    setenv("HF_HUB_OFFLINE", "0", 1);
    RESOLVE_FAIL(TINY, &o, err);                           /* online now, but the server is gone */
    ASSERT_HAS(err, "cannot connect");
}
END_TEST

START_TEST(test_resume_after_cut)
{
    start_server("--cut", "model.safetensors");
    HubOptions o = opts();
    char dir[4096], err[2048], etag[256], rd[PBUF], blob[PBUF], inc[PBUF], want[PBUF], snap[PBUF];
    manifest(TINY, "model.safetensors", etag, sizeof etag);
    repo_dir(TINY, rd, sizeof rd);
    FMT(blob, "%s/blobs/%s", rd, etag);
    FMT(inc, "%s.incomplete", blob);
    RESOLVE_FAIL(TINY, &o, err);
    ASSERT_HAS(err, "cut short");
    ASSERT_HAS(err, "/cdn/");
    ASSERT_HAS(err, etag);
    ASSERT_HAS(err, "resume");
    ASSERT_HAS(err, endpoint);
    ck_assert_msg(!exists(blob), "a partial blob under its final name");
    struct stat st;
    ck_assert_int_eq(stat(inc, &st), 0);
    ck_assert_int_gt(st.st_size, 0);
    ck_assert_int_lt(st.st_size, 2096184);
    snap_dir(TINY, snap, sizeof snap);
    FMT(want, "%s/model.safetensors", snap);
    ck_assert(!exists(want));
    RESOLVE_OK(TINY, &o, dir);
    assert_cached(TINY, "model.safetensors");
    ck_assert(!exists(inc));
    FMT(want, "range=bytes=%lld- ", (long long)st.st_size);
    ck_assert_int_eq(count_lines(srvlog, want), 1);        /* resumed where it stopped */
    ck_assert_int_eq(count_lines(srvlog, "GET /cdn/"), 2);
}
END_TEST

START_TEST(test_restart_when_range_ignored)
{
    start_server("--cut", "model.safetensors", "--no-range");
    HubOptions o = opts();
    char dir[4096], err[2048];
    RESOLVE_FAIL(TINY, &o, err);
    ck_assert_int_eq(count_incomplete(TINY), 1);
    RESOLVE_OK(TINY, &o, dir);                             /* a 200 to a Range request: start over */
    assert_cached(TINY, "model.safetensors");
    ck_assert_int_eq(count_incomplete(TINY), 0);
}
END_TEST

START_TEST(test_size_mismatch)
{
    start_server("--lie-size", "model.safetensors");
    HubOptions o = opts();
    char err[2048], etag[256], rd[PBUF], blob[PBUF];
    RESOLVE_FAIL(TINY, &o, err);
    ASSERT_HAS(err, "2096184");
    ASSERT_HAS(err, "2096194");
    ASSERT_HAS(err, "/cdn/");
    manifest(TINY, "model.safetensors", etag, sizeof etag);
    repo_dir(TINY, rd, sizeof rd);
    FMT(blob, "%s/blobs/%s", rd, etag);
    ck_assert(!exists(blob));
    ck_assert_int_eq(count_incomplete(TINY), 0);
}
END_TEST

START_TEST(test_http_401_gated)
{
    start_server("--token", TOKEN);
    HubOptions o = opts();                                 /* no token */
    char err[2048], want[300];
    RESOLVE_FAIL("test-org/gated", &o, err);
    ASSERT_HAS(err, "HTTP 401");
    ASSERT_HAS(err, "HF_TOKEN");
    ASSERT_HAS(err, "licence");
    ASSERT_HAS(err, "test-org/gated");
    FMT(want, "%s/test-org/gated/resolve/", endpoint);
    ASSERT_HAS(err, want);
    ASSERT_HAS(err, "no token");
    ck_assert_int_eq(count_incomplete("test-org/gated"), 0);
    /* no token from the environment either (HF_HOME/token does not exist) */
    o.token = NULL;
    RESOLVE_FAIL("test-org/gated", &o, err);
    ASSERT_HAS(err, "HTTP 401");
}
END_TEST

START_TEST(test_http_403_wrong_token)
{
    start_server("--token", TOKEN);
    HubOptions o = opts();
    o.token = WRONG;
    o.verbose = 1;
    char err[2048];
    RESOLVE_FAIL("test-org/gated", &o, err);
    ASSERT_HAS(err, "HTTP 403");
    ASSERT_HAS(err, "licence");
    ASSERT_HAS(err, "test-org/gated");
    ck_assert_int_gt(count_lines(srvlog, "auth=bad"), 0);
    assert_log_clean();
}
END_TEST

START_TEST(test_token_sent_never_shown)
{
    /* the hub under /hub; the CDN at /cdn is outside the endpoint and gets no token */
    start_server("--token", TOKEN, "--require-token", "--prefix", "/hub");
    strncat(endpoint, "/hub/", sizeof endpoint - strlen(endpoint) - 1);   /* a trailing '/' is tolerated */
    HubOptions o = opts();
    o.token = TOKEN;
    o.verbose = 1;
    o.progress = HUB_PROGRESS_ALWAYS;
    char dir[4096];
    RESOLVE_OK("test-org/gated", &o, dir);
    assert_cached("test-org/gated", "model.safetensors");
    int hub_lines = count_lines(srvlog, " /hub/");
    ck_assert_int_ge(hub_lines, 5);
    ck_assert_int_eq(count_lines(srvlog, "auth=ok"), hub_lines);
    ck_assert_int_eq(count_lines(srvlog, "GET /cdn/"), 1);
    ck_assert_int_eq(count_lines(srvlog, "auth=none"), 1);   /* that CDN request */
    fflush(hlog);
    char *text = slurp(clientlog, NULL);
    ASSERT_HAS(text, "hub: GET");
    ASSERT_HAS(text, "with the token from the options");
    free(text);
    assert_log_clean();
}
END_TEST

START_TEST(test_token_from_env_and_file)
{
    start_server("--token", TOKEN, "--require-token");
    HubOptions o = opts();
    o.token = NULL;
    o.verbose = 1;
    char dir[4096], err[2048], p[PBUF];
    setenv("HF_TOKEN", TOKEN, 1);
    RESOLVE_OK(TINY, &o, dir);
    unsetenv("HF_TOKEN");
    FMT(p, "%s/hfhome/token", tdir);        /* as `huggingface-cli login` writes it */
    FILE *f = fopen(p, "w");
    fputs(TOKEN "\n", f);
    fclose(f);
    RESOLVE_OK("test-org/tiny-sharded", &o, dir);
    ck_assert_int_eq(count_lines(srvlog, "auth=none"), 0);
    ck_assert_int_eq(count_lines(srvlog, "auth=bad"), 0);
    FMT(p, "%s/other-token", tdir);         /* $HF_TOKEN_PATH wins over HF_HOME/token */
    f = fopen(p, "w");
    fputs(WRONG, f);
    fclose(f);
    setenv("HF_TOKEN_PATH", p, 1);
    RESOLVE_FAIL("test-org/gated", &o, err);
    ASSERT_HAS(err, "HTTP 403");
    ASSERT_HAS(err, "/api/models/test-org/gated/revision/main");
    ck_assert_int_eq(count_lines(srvlog, "auth=bad"), 1);
    assert_log_clean();
}
END_TEST

START_TEST(test_http_404)
{
    start_plain_server();
    HubOptions o = opts();
    char err[2048], want[300], rd[PBUF], p[PBUF];
    RESOLVE_FAIL("test-org/nope", &o, err);
    ASSERT_HAS(err, "HTTP 404");
    ASSERT_HAS(err, "repository 'test-org/nope' not found");
    FMT(want, "%s/api/models/test-org/nope/revision/main", endpoint);
    ASSERT_HAS(err, want);
    RESOLVE_FAIL(TINY "@nope", &o, err);
    ASSERT_HAS(err, "revision 'nope' not found");
    repo_dir(TINY, rd, sizeof rd);
    FMT(p, "%s/refs/nope", rd);
    ck_assert(!exists(p));
}
END_TEST

START_TEST(test_http_404_file)
{
    start_server("--missing", "tokenizer.json");
    HubOptions o = opts();
    char err[2048], want[PBUF], commit[128], snap[PBUF], p[PBUF];
    RESOLVE_FAIL(TINY, &o, err);
    manifest(TINY, "@commit", commit, sizeof commit);
    ASSERT_HAS(err, "HTTP 404");
    ASSERT_HAS(err, "file 'tokenizer.json' not found in test-org/tiny-llama@main");
    FMT(want, "%s/test-org/tiny-llama/resolve/%s/tokenizer.json", endpoint, commit);
    ASSERT_HAS(err, want);
    snap_dir(TINY, snap, sizeof snap);
    FMT(p, "%s/tokenizer.json", snap);
    ck_assert(!exists(p));
    ck_assert_int_eq(count_incomplete(TINY), 0);
}
END_TEST

START_TEST(test_connection_refused)
{
    /* a port that was free a moment ago */
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    ck_assert_int_eq(bind(s, (struct sockaddr *)&a, sizeof a), 0);
    ck_assert_int_eq(getsockname(s, (struct sockaddr *)&a, &len), 0);
    close(s);
    FMT(endpoint, "http://127.0.0.1:%d", ntohs(a.sin_port));
    HubOptions o = opts();
    char err[2048], want[300];
    RESOLVE_FAIL(TINY, &o, err);
    ASSERT_HAS(err, "cannot connect");
    FMT(want, "%s/api/models/test-org/tiny-llama/revision/main", endpoint);
    ASSERT_HAS(err, want);
    ASSERT_HAS(err, "HF_HUB_OFFLINE");
    /* the environment's endpoint (port 9, closed) when the options leave it out */
    o.endpoint = NULL;
    RESOLVE_FAIL(TINY, &o, err);
    ASSERT_HAS(err, "http://127.0.0.1:9/api/models/");
}
END_TEST

START_TEST(test_disk_write_failure)
{
    start_plain_server();
    HubOptions o = opts();
    char dir[4096], err[2048], etag[256], rd[PBUF], blob[PBUF];
    signal(SIGXFSZ, SIG_IGN);
    struct rlimit old, lim;
    ck_assert_int_eq(getrlimit(RLIMIT_FSIZE, &old), 0);
    lim = old;
    lim.rlim_cur = 100000;                                 /* the JSON files fit, the weights do not */
    ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &lim), 0);
    RESOLVE_FAIL(TINY, &o, err);
    ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &old), 0);
    manifest(TINY, "model.safetensors", etag, sizeof etag);
    ASSERT_HAS(err, "cannot write");
    ASSERT_HAS(err, ".incomplete");
    ASSERT_HAS(err, strerror(EFBIG));
    ASSERT_HAS(err, "/cdn/");
    repo_dir(TINY, rd, sizeof rd);
    FMT(blob, "%s/blobs/%s", rd, etag);
    ck_assert(!exists(blob));
    RESOLVE_OK(TINY, &o, dir);                             /* space again: resumes */
    assert_cached(TINY, "model.safetensors");
    ck_assert_int_eq(count_lines(srvlog, "range=bytes="), 1);
}
END_TEST

START_TEST(test_sharded)
{
    start_plain_server();
    HubOptions o = opts();
    char dir[4096], p[PBUF], rd[PBUF], commit[128];
    RESOLVE_OK("test-org/tiny-sharded", &o, dir);
    static const char *const files[] = {"config.json", "tokenizer.model", "tokenizer_config.json",
                                        "model.safetensors.index.json", "model-00001-of-00002.safetensors",
                                        "model-00002-of-00002.safetensors"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) assert_cached("test-org/tiny-sharded", files[i]);
    ck_assert_int_eq(count_lines(srvlog, "consolidated"), 0);
    FMT(p, "%s/consolidated.safetensors", dir);
    ck_assert(!exists(p));
    repo_dir("test-org/tiny-sharded", rd, sizeof rd);
    manifest("test-org/tiny-sharded", "@commit", commit, sizeof commit);
    FMT(p, "%s/.no_exist/%s/generation_config.json", rd, commit);
    ck_assert_msg(exists(p), "no .no_exist marker for generation_config.json");
    int n = count_lines(srvlog, NULL);
    RESOLVE_OK("test-org/tiny-sharded", &o, dir);
    ck_assert_int_eq(count_lines(srvlog, NULL), n);
}
END_TEST

START_TEST(test_revisions)
{
    start_plain_server();
    HubOptions o = opts();
    char dir[4096], dir2[4096], err[2048], rd[PBUF], p[PBUF], commit[128], id[300];
    RESOLVE_OK(TINY "@v1.0", &o, dir);
    repo_dir(TINY, rd, sizeof rd);
    manifest(TINY, "@commit", commit, sizeof commit);
    FMT(p, "%s/refs/v1.0", rd);
    char *ref = slurp(p, NULL);
    ck_assert_ptr_nonnull(ref);
    ck_assert_str_eq(ref, commit);
    free(ref);
    FMT(p, "%s/refs/main", rd);
    ck_assert(!exists(p));
    stop_server();
    FMT(id, "%s@%s", TINY, commit);        /* a commit needs no ref */
    o.offline = 1;
    RESOLVE_OK(id, &o, dir2);
    ck_assert_str_eq(dir, dir2);
    FMT(p, "%s/refs/%s", rd, commit);
    ck_assert(!exists(p));
    RESOLVE_FAIL(TINY, &o, err);                           /* main was never resolved */
    ASSERT_HAS(err, "not in the cache");
}
END_TEST

/* A cache as huggingface_hub leaves it, made by hand; no server at all. */
START_TEST(test_existing_python_cache)
{
    const char *hash = "0123456789abcdef0123456789abcdef01234567";
    char rd[PBUF], p[PBUF], q[PBUF];
    FMT(rd, "%s/models--acme--handmade", cachedir);
    static const char *const sub[] = {"", "/refs", "/blobs", "/snapshots", "/snapshots/0123456789abcdef0123456789abcdef01234567"};
    mkdir(cachedir, 0755);
    for (size_t i = 0; i < sizeof sub / sizeof sub[0]; i++) {
        FMT(p, "%s%s", rd, sub[i]);
        ck_assert_int_eq(mkdir(p, 0755), 0);
    }
    FMT(p, "%s/refs/main", rd);
    FILE *f = fopen(p, "w");
    fprintf(f, "%s\n", hash);                              /* tolerate a newline */
    fclose(f);
    static const char *const files[] = {"config.json", "tokenizer.json", "tokenizer_config.json", "model.safetensors"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        FMT(p, "%s/blobs/etag%zu", rd, i);
        f = fopen(p, "w");
        fputs("{}", f);
        fclose(f);
        FMT(p, "../../blobs/etag%zu", i);
        FMT(q, "%s/snapshots/%s/%s", rd, hash, files[i]);
        ck_assert_int_eq(symlink(p, q), 0);
    }
    HubOptions o = opts();                                 /* endpoint: a closed port */
    char dir[4096], err[2048];
    RESOLVE_OK("acme/handmade", &o, dir);
    FMT(p, "%s/snapshots/%s", rd, hash);
    ck_assert_str_eq(dir, p);
    o.cache_dir = NULL;                                    /* found through $HF_HUB_CACHE */
    setenv("HF_HUB_CACHE", cachedir, 1);
    RESOLVE_OK("acme/handmade", &o, dir);
    ck_assert_str_eq(dir, p);
    /* a dangling blob link counts as missing */
    FMT(p, "%s/blobs/etag3", rd);
    unlink(p);
    o.offline = 1;
    RESOLVE_FAIL("acme/handmade", &o, err);
    ASSERT_HAS(err, "model.safetensors is missing");
}
END_TEST

START_TEST(test_refetch_missing_links)
{
    start_plain_server();
    HubOptions o = opts();
    char dir[4096], p[4200];
    RESOLVE_OK(TINY, &o, dir);
    int cdn = count_lines(srvlog, "GET /cdn/"), gets = count_lines(srvlog, "GET ");
    FMT(p, "%s/config.json", dir);
    unlink(p);
    FMT(p, "%s/model.safetensors", dir);
    unlink(p);
    RESOLVE_OK(TINY, &o, dir);
    assert_cached(TINY, "config.json");
    assert_cached(TINY, "model.safetensors");
    ck_assert_int_eq(count_lines(srvlog, "GET /cdn/"), cdn);     /* the blobs were there: HEADs only */
    ck_assert_int_eq(count_lines(srvlog, "GET "), gets + 1);     /* plus the listing */
}
END_TEST

/* Three processes resolve the same model at once: the blob locks make the
 * weights go over the wire once, and every process gets the snapshot. */
START_TEST(test_concurrent_downloads)
{
    start_plain_server();
    HubOptions o = opts();
    pid_t kids[3];
    for (int i = 0; i < 3; i++) {
        kids[i] = fork();
        ck_assert_int_ge(kids[i], 0);
        if (kids[i] == 0) {
            char dir[4096], err[2048];
            _exit(hub_resolve(TINY, &o, dir, sizeof dir, err, sizeof err) == 0 ? 0 : 1);
        }
    }
    for (int i = 0; i < 3; i++) {
        int status = 0;
        ck_assert_int_eq(waitpid(kids[i], &status, 0), kids[i]);
        ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "process %d failed", i);
    }
    assert_cached(TINY, "model.safetensors");
    assert_cached(TINY, "config.json");
    ck_assert_int_eq(count_lines(srvlog, "GET /cdn/"), 1);
    ck_assert_int_eq(count_incomplete(TINY), 0);
}
END_TEST

START_TEST(test_local_dir_and_ids)
{
    HubOptions o = opts();
    char dir[4096], err[2048], p[PBUF];
    RESOLVE_OK(tdir, &o, dir);
    ck_assert_str_eq(dir, tdir);
    FMT(p, "%s/file.safetensors", tdir);
    FILE *f = fopen(p, "w");
    fclose(f);
    RESOLVE_FAIL(p, &o, err);
    ASSERT_HAS(err, "is a file");
    static const char *const bad[] = {"a/b/c", "../x", "./missing-dir", "/no/such/dir", "org--x/y", "x@",
                                      "x@a..b", "x@@y", "-x/y", "x/y.", "", "org/na me"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ck_assert_msg(!hub_is_model_id(bad[i]), "'%s' taken for a model id", bad[i]);
        RESOLVE_FAIL(bad[i], &o, err);
    }
    RESOLVE_FAIL("a/b/c", &o, err);
    ASSERT_HAS(err, "neither a directory nor a model id");
    static const char *const good[] = {"meta-llama/Llama-3.2-1B", "gpt2", "org/name@refs/pr/1", "TinyLlama/x_y.z@v1.0",
                                       "org/name@0123456789abcdef0123456789abcdef01234567"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        ck_assert_msg(hub_is_model_id(good[i]), "'%s' refused", good[i]);
    ck_assert(!hub_is_model_id(NULL));
}
END_TEST

START_TEST(test_cache_dir_defaults)
{
    char out[1024], want[1024];
    HubOptions o;
    hub_options_init(&o);
    o.cache_dir = "/opt/x";
    ck_assert_int_eq(hub_cache_dir(&o, out, sizeof out), 0);
    ck_assert_str_eq(out, "/opt/x");
    setenv("HF_HUB_CACHE", "/env/cache", 1);
    setenv("HF_HOME", "/env/home", 1);
    ck_assert_int_eq(hub_cache_dir(NULL, out, sizeof out), 0);
    ck_assert_str_eq(out, "/env/cache");
    unsetenv("HF_HUB_CACHE");
    ck_assert_int_eq(hub_cache_dir(NULL, out, sizeof out), 0);
    ck_assert_str_eq(out, "/env/home/hub");
    setenv("HF_HOME", "~/hf", 1);
    ck_assert_int_eq(hub_cache_dir(NULL, out, sizeof out), 0);
    FMT(want, "%s/hf/hub", getenv("HOME"));
    ck_assert_str_eq(out, want);
    unsetenv("HF_HOME");
    setenv("XDG_CACHE_HOME", "/xdg", 1);
    ck_assert_int_eq(hub_cache_dir(NULL, out, sizeof out), 0);
    ck_assert_str_eq(out, "/xdg/huggingface/hub");
    unsetenv("XDG_CACHE_HOME");
    ck_assert_int_eq(hub_cache_dir(NULL, out, sizeof out), 0);
    FMT(want, "%s/.cache/huggingface/hub", getenv("HOME"));
    ck_assert_str_eq(out, want);
    ck_assert_int_eq(hub_cache_dir(NULL, out, 8), -1);
}
END_TEST

/* Everything from the environment, as `ueajc run -m` will call it. */
START_TEST(test_environment_defaults)
{
    start_plain_server();
    char dir[4096], want[PBUF];
    setenv("HF_ENDPOINT", endpoint, 1);
    setenv("HF_HUB_DISABLE_PROGRESS_BARS", "1", 1);
    HubOptions o;
    hub_options_init(&o);
    o.log = hlog;
    RESOLVE_OK(TINY, &o, dir);
    FMT(want, "%s/hfhome/hub/models--test-org--tiny-llama/snapshots/", tdir);
    ck_assert_msg(!strncmp(dir, want, strlen(want)), "%s is not under %s", dir, want);
    RESOLVE_OK(TINY, NULL, dir);                           /* NULL options: the same */
    ck_assert_msg(!strncmp(dir, want, strlen(want)), "%s is not under %s", dir, want);
    fflush(hlog);
    ck_assert_int_eq(count_lines(clientlog, NULL), 0);
}
END_TEST

START_TEST(test_progress)
{
    start_plain_server();
    HubOptions o = opts();
    char dir[4096];
    o.progress = HUB_PROGRESS_ALWAYS;
    RESOLVE_OK(TINY, &o, dir);
    fflush(hlog);
    char *text = slurp(clientlog, NULL);
    ASSERT_HAS(text, "model.safetensors");
    ASSERT_HAS(text, "2.1 MB");
    ASSERT_HAS(text, "100%");
    ASSERT_HAS(text, "MB/s");
    free(text);
    /* AUTO into a regular file, and NEVER: silent */
    long before = ftell(hlog);
    o.progress = HUB_PROGRESS_AUTO;
    RESOLVE_OK("test-org/tiny-sharded", &o, dir);
    o.progress = HUB_PROGRESS_NEVER;
    char other[PBUF];
    FMT(other, "%s/cache2", tdir);
    o.cache_dir = other;                                   /* another, empty cache */
    RESOLVE_OK(TINY, &o, dir);
    fflush(hlog);
    ck_assert_int_eq(ftell(hlog), before);
}
END_TEST

extern Suite *suite_hub(void);
Suite *suite_hub(void)
{
    Suite *s = suite_create("hub");
    TCase *tc = tcase_create("cache");
    tcase_set_timeout(tc, 30);
    tcase_add_unchecked_fixture(tc, base_setup, base_teardown);
    tcase_add_checked_fixture(tc, test_setup, test_teardown);
    tcase_add_test(tc, test_local_dir_and_ids);
    tcase_add_test(tc, test_cache_dir_defaults);
    tcase_add_test(tc, test_existing_python_cache);
    suite_add_tcase(s, tc);
    tc = tcase_create("download");
    tcase_set_timeout(tc, 30);
    tcase_add_unchecked_fixture(tc, base_setup, base_teardown);
    tcase_add_checked_fixture(tc, test_setup, test_teardown);
    tcase_add_test(tc, test_fresh_download_layout);
    tcase_add_test(tc, test_second_resolve_no_network);
    tcase_add_test(tc, test_offline);
    tcase_add_test(tc, test_sharded);
    tcase_add_test(tc, test_revisions);
    tcase_add_test(tc, test_refetch_missing_links);
    tcase_add_test(tc, test_environment_defaults);
    tcase_add_test(tc, test_progress);
    tcase_add_test(tc, test_concurrent_downloads);
    suite_add_tcase(s, tc);
    tc = tcase_create("errors");
    tcase_set_timeout(tc, 30);
    tcase_add_unchecked_fixture(tc, base_setup, base_teardown);
    tcase_add_checked_fixture(tc, test_setup, test_teardown);
    tcase_add_test(tc, test_resume_after_cut);
    tcase_add_test(tc, test_restart_when_range_ignored);
    tcase_add_test(tc, test_size_mismatch);
    tcase_add_test(tc, test_disk_write_failure);
    tcase_add_test(tc, test_http_401_gated);
    tcase_add_test(tc, test_http_403_wrong_token);
    tcase_add_test(tc, test_token_sent_never_shown);
    tcase_add_test(tc, test_token_from_env_and_file);
    tcase_add_test(tc, test_http_404);
    tcase_add_test(tc, test_http_404_file);
    tcase_add_test(tc, test_connection_refused);
    suite_add_tcase(s, tc);
    return s;
}
