/* run_cli.c - `ueajc run` and `ueajc bench`: a checkpoint, the model file, text.
 *
 *   ueajc run -m DIR|ORG/NAME[@REV] [-p PROMPT | -f FILE] [-n N] [-c CTX] [-t N]
 *             [-s SEED] [--temp T] [--top-k K] [--top-p P] [--min-p P]
 *             [--repeat-penalty R] [--repeat-last-n N] [--chat] [-sys TEXT]
 *             [--ignore-eos] [--logits OUT.npy] [--model-file FILE.ue] [-v]
 *   ueajc bench -m ... [-p 512] [-n 128] [-r 3] [-t N]
 *
 * The flags follow llama.cpp's names.  -m is resolved by runtime/hub.c
 * (a directory, or a model id in the HuggingFace cache, downloaded when
 * absent).  The model file defaults to the embedded models/llama.ue; the
 * engine (runtime/engine.c) compiles it for the checkpoint's config.json.
 * Generated text streams to stdout as complete UTF-8; everything else goes
 * to stderr and ends with llama.cpp-style timing lines.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "chat.h"
#include "checkpoint.h"
#include "engine.h"
#include "hub.h"
#include "run_cli.h"
#include "sampler.h"
#include "tensorio.h"
#include "tokenizer.h"

extern const char model_llama_ue[];

typedef struct RunArgs {
    const char *model, *prompt, *prompt_file, *system, *logits_out, *model_file, *cache_dir, *chat_format, *device;
    const char *cubin;
    int n_predict, ctx, threads, chat, ignore_eos, verbose, reps, bench_p, bench_n;
    SamplerConfig sc;
} RunArgs;

/* Prints a message from a library: as it is when it already says where
 * ("FILE: error: ..."), else after "ueajc: error: ". */
static void report(const char *msg)
{
    if (strstr(msg, ": error: ") || !strncmp(msg, "error: ", 7)) fprintf(stderr, "%s\n", msg);
    else fprintf(stderr, "ueajc: error: %s\n", msg);
}

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static int parse_int(const char *flag, const char *v, long lo, long hi, int *out)
{
    char *end;
    errno = 0;
    long x = strtol(v, &end, 10);
    if (!*v || *end || errno || x < lo || x > hi) {
        fprintf(stderr, "ueajc: error: %s expects a whole number in %ld..%ld, got '%s'\n", flag, lo, hi, v);
        return -1;
    }
    *out = (int)x;
    return 0;
}

static int parse_float(const char *flag, const char *v, double lo, double hi, float *out)
{
    char *end;
    errno = 0;
    double x = strtod(v, &end);
    if (!*v || *end || errno || !(x >= lo && x <= hi)) {
        fprintf(stderr, "ueajc: error: %s expects a number in %g..%g, got '%s'\n", flag, lo, hi, v);
        return -1;
    }
    *out = (float)x;
    return 0;
}

static void usage(FILE *f, int bench)
{
    if (bench) {
        fputs("usage: ueajc bench -m DIR|ORG/NAME [-p 512] [-n 128] [-r 3] [-t N] [--model-file FILE.ue]\n"
              "                   [--device cpu|cuda|harness|auto] [--cubin FILE.cubin]\n"
              "prints llama-bench-style pp (prompt processing) and tg (generation) tokens/s and the\n"
              "weight bandwidth of generation (weight bytes / time per token); with --device cuda the\n"
              "times are the GPU's (CUDA events around each call's kernels and matmuls)\n", f);
        return;
    }
    fputs("usage: ueajc run -m DIR|ORG/NAME[@REV] [-p PROMPT | -f FILE] [options]\n"
          "  -m MODEL            a HuggingFace checkpoint directory, or a model id resolved in the\n"
          "                      HuggingFace cache ($HF_HOME) and downloaded from $HF_ENDPOINT if absent\n"
          "  -p PROMPT, -f FILE  the prompt (with --chat: the user message)\n"
          "  -n N                tokens to generate (default 256; -1: until EOS or the context is full)\n"
          "  -c N                context size (default min(4096, max_position_embeddings))\n"
          "  -t N                threads (default: all cores)\n"
          "  -s N                sampling seed (default: random, printed with -v)\n"
          "  --temp T            temperature (default 0.8; 0 = greedy)\n"
          "  --top-k K           (default 40; 0 = off)     --top-p P   (default 0.95; 1 = off)\n"
          "  --min-p P           (default 0.05; 0 = off)\n"
          "  --repeat-penalty R  (default 1.0 = off)       --repeat-last-n N (default 64)\n"
          "  --chat              apply the checkpoint's chat template; -sys TEXT adds a system message\n"
          "  --chat-format F     use a built-in format instead: chatml, llama2, llama3, llama3.1\n"
          "  --ignore-eos        keep generating after an end-of-sequence token\n"
          "  --logits OUT.npy    write the f32 logits of every prompt position and generated step\n"
          "  --model-file F.ue   the model description (default: the built-in models/llama.ue)\n"
          "  --device D          cpu (default: the C backend), cuda (the CUDA plan on a GPU), harness\n"
          "                      (the CUDA plan on the CPU test harness) or auto (cuda when usable)\n"
          "  --cubin F.cubin     run a cubin made by `ueajc MODEL.ue --config DIR/config.json -o F.cubin`\n"
          "                      with the checkpoint's weights instead of compiling the model file\n"
          "                      (implies --device cuda; its config must be the checkpoint's)\n"
          "  -v                  report the seed, the compile cache and the backend\n", f);
}

/* Parses flags shared by run and bench.  Returns 0, 1 (help), -1 (error). */
static int parse_args(int argc, char **argv, RunArgs *a, int bench)
{
    memset(a, 0, sizeof *a);
    sampler_config_default(&a->sc);
    a->sc.temperature = 0.8f;
    a->sc.top_k = 40;
    a->sc.top_p = 0.95f;
    a->sc.min_p = 0.05f;
    a->sc.repeat_penalty = 1.0f;
    a->sc.repeat_last_n = 64;
    a->n_predict = bench ? 128 : 256;
    a->reps = 3;
    a->bench_p = 512;
    for (int i = 1; i < argc; i++) {
        const char *f = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
#define NEEDV() do { if (!v) { fprintf(stderr, "ueajc: error: %s needs a value\n", f); return -1; } i++; } while (0)
        if (!strcmp(f, "-h") || !strcmp(f, "--help")) { usage(stdout, bench); return 1; }
        else if (!strcmp(f, "-v") || !strcmp(f, "--verbose")) a->verbose = 1;
        else if (!strcmp(f, "--chat") || !strcmp(f, "-cnv")) a->chat = 1;
        else if (!strcmp(f, "--ignore-eos")) a->ignore_eos = 1;
        else if (!strcmp(f, "-m") || !strcmp(f, "--model")) { NEEDV(); a->model = v; }
        else if (!strcmp(f, "-p") || !strcmp(f, "--prompt")) {
            NEEDV();
            if (bench) { if (parse_int(f, v, 1, 1 << 20, &a->bench_p)) return -1; }
            else a->prompt = v;
        }
        else if (!strcmp(f, "-f") || !strcmp(f, "--file")) { NEEDV(); a->prompt_file = v; }
        else if (!strcmp(f, "-sys") || !strcmp(f, "--system-prompt")) { NEEDV(); a->system = v; }
        else if (!strcmp(f, "-n") || !strcmp(f, "--n-predict")) { NEEDV(); if (parse_int(f, v, -1, 1 << 24, &a->n_predict)) return -1; }
        else if (!strcmp(f, "-c") || !strcmp(f, "--ctx-size")) { NEEDV(); if (parse_int(f, v, 1, 1 << 24, &a->ctx)) return -1; }
        else if (!strcmp(f, "-t") || !strcmp(f, "--threads")) { NEEDV(); if (parse_int(f, v, 1, 4096, &a->threads)) return -1; }
        else if (!strcmp(f, "-r") || !strcmp(f, "--repetitions")) { NEEDV(); if (parse_int(f, v, 1, 1000, &a->reps)) return -1; }
        else if (!strcmp(f, "-s") || !strcmp(f, "--seed")) {
            NEEDV();
            char *end;
            errno = 0;
            unsigned long long s = strtoull(v, &end, 10);
            if (!*v || *end || errno || v[0] == '-') { fprintf(stderr, "ueajc: error: -s expects a non-negative integer\n"); return -1; }
            a->sc.seed = s;
            a->sc.has_seed = 1;
        }
        else if (!strcmp(f, "--temp")) { NEEDV(); if (parse_float(f, v, 0, 1e4, &a->sc.temperature)) return -1; }
        else if (!strcmp(f, "--top-k")) { NEEDV(); if (parse_int(f, v, 0, 1 << 30, &a->sc.top_k)) return -1; }
        else if (!strcmp(f, "--top-p")) { NEEDV(); if (parse_float(f, v, 0, 1, &a->sc.top_p)) return -1; }
        else if (!strcmp(f, "--min-p")) { NEEDV(); if (parse_float(f, v, 0, 1, &a->sc.min_p)) return -1; }
        else if (!strcmp(f, "--repeat-penalty")) { NEEDV(); if (parse_float(f, v, 0, 100, &a->sc.repeat_penalty)) return -1; }
        else if (!strcmp(f, "--repeat-last-n")) { NEEDV(); if (parse_int(f, v, -1, 1 << 24, &a->sc.repeat_last_n)) return -1; }
        else if (!strcmp(f, "--logits")) { NEEDV(); a->logits_out = v; }
        else if (!strcmp(f, "--model-file")) { NEEDV(); a->model_file = v; }
        else if (!strcmp(f, "--cubin")) { NEEDV(); a->cubin = v; }
        else if (!strcmp(f, "--chat-format")) {
            NEEDV();
            if (chat_format_from_name(v) == CHAT_FMT_NONE) {
                fprintf(stderr, "ueajc: error: --chat-format %s: expected chatml, llama2, llama3 or llama3.1\n", v);
                return -1;
            }
            a->chat_format = v;
            a->chat = 1;
        }
        else if (!strcmp(f, "--cache-dir")) { NEEDV(); a->cache_dir = v; }
        else if (!strcmp(f, "--device")) {
            NEEDV();
            if (strcmp(v, "cpu") && strcmp(v, "cuda") && strcmp(v, "harness") && strcmp(v, "auto")) {
                fprintf(stderr, "ueajc: error: --device %s: expected cpu, cuda, harness or auto\n", v);
                return -1;
            }
            a->device = v;
        }
        else {
            fprintf(stderr, "ueajc: error: unknown option '%s' (see ueajc %s --help)\n", f, bench ? "bench" : "run");
            return -1;
        }
#undef NEEDV
    }
    if (!a->model) { fprintf(stderr, "ueajc: error: no model: give -m DIR or -m ORG/NAME\n"); return -1; }
    if (a->cubin && a->model_file) {
        fprintf(stderr, "ueajc: error: --cubin %s already holds the compiled model; --model-file is for compiling one\n",
                a->cubin);
        return -1;
    }
    if (a->cubin && a->device && !strcmp(a->device, "cpu")) {
        fprintf(stderr, "ueajc: error: --cubin %s is CUDA code; it runs with --device cuda (or harness, the CPU test "
                        "harness), not cpu\n", a->cubin);
        return -1;
    }
    if (a->cubin && !a->device) a->device = "cuda";
    if (bench && (a->chat || a->logits_out || a->prompt_file || a->system || a->sc.has_seed || a->ignore_eos)) {
        fprintf(stderr, "ueajc: error: bench measures speed on fixed token ids; --chat, -sys, -f, -s, --logits and "
                        "--ignore-eos are options of 'ueajc run'\n");
        return -1;
    }
    if (!bench && a->prompt && a->prompt_file) { fprintf(stderr, "ueajc: error: give -p or -f, not both\n"); return -1; }
    if (a->logits_out && strlen(a->logits_out) < 5) { fprintf(stderr, "ueajc: error: --logits expects OUT.npy\n"); return -1; }
    if (a->logits_out && strcmp(a->logits_out + strlen(a->logits_out) - 4, ".npy")) {
        fprintf(stderr, "ueajc: error: --logits %s: the file must end in .npy\n", a->logits_out);
        return -1;
    }
    return 0;
}

static char *read_text(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 4096, n = 0;
    char *s = malloc(cap);
    size_t r;
    while (s && (r = fread(s + n, 1, cap - n - 1, f)) > 0) {
        n += r;
        if (cap - n - 1 == 0) {
            char *t = realloc(s, cap * 2);
            if (!t) { free(s); s = NULL; break; }
            s = t;
            cap *= 2;
        }
    }
    fclose(f);
    if (s) s[n] = 0;
    *len = n;
    return s;
}

/* The model: the checkpoint directory, its tokenizer, the compiled engine. */
typedef struct Loaded {
    char       dir[4096];
    Tokenizer *tok;
    Engine    *eng;
    char      *model_src;
} Loaded;

static void unload(Loaded *L)
{
    engine_free(L->eng);
    tok_free(L->tok);
    free(L->model_src);
}

static int load(const RunArgs *a, Loaded *L, int64_t ctx, int64_t batch, int need_tokenizer)
{
    char err[2048];
    memset(L, 0, sizeof *L);
    HubOptions ho;
    hub_options_init(&ho);
    ho.verbose = a->verbose;
    if (hub_resolve(a->model, &ho, L->dir, sizeof L->dir, err, sizeof err) != 0) {
        report(err);
        return -1;
    }
    if (need_tokenizer && !(L->tok = tok_load(L->dir, err, sizeof err))) {
        report(err);
        return -1;
    }
    const char *name = "models/llama.ue";
    if (a->model_file) {
        size_t len;
        if (!(L->model_src = read_text(a->model_file, &len))) {
            fprintf(stderr, "%s: error: cannot read: %s\n", a->model_file, strerror(errno));
            return -1;
        }
        name = a->model_file;
    }
    char cfg[4200];
    snprintf(cfg, sizeof cfg, "%s/config.json", L->dir);
    EngineOptions eo;
    memset(&eo, 0, sizeof eo);
    eo.model_src = L->model_src ? L->model_src : model_llama_ue;
    eo.model_name = name;
    eo.config_path = cfg;
    eo.weights = L->dir;
    eo.ctx_len = ctx;
    eo.max_batch = batch;
    eo.threads = a->threads;
    eo.device = a->device;
    eo.cubin = a->cubin;
    eo.verbose = a->verbose;
    eo.copt.verify = 1;
    eo.copt.verbose = a->verbose;
    eo.copt.cache_dir = a->cache_dir;
    eo.copt.color = isatty(2);
    if (!(L->eng = engine_new(&eo, err, sizeof err))) {
        report(err);
        return -1;
    }
    return 0;
}

typedef struct Logits { float *v; int64_t rows, cap, V; } Logits;

static int logits_add(Logits *lg, const float *rows, int64_t n)
{
    if (lg->rows + n > lg->cap) {
        int64_t cap = lg->cap ? lg->cap * 2 : 64;
        while (cap < lg->rows + n) cap *= 2;
        float *v = realloc(lg->v, sizeof(float) * (size_t)(cap * lg->V));
        if (!v) return -1;
        lg->v = v;
        lg->cap = cap;
    }
    memcpy(lg->v + lg->rows * lg->V, rows, sizeof(float) * (size_t)(n * lg->V));
    lg->rows += n;
    return 0;
}

int ueaj_run_main(int argc, char **argv)
{
    RunArgs a;
    int r = parse_args(argc, argv, &a, 0);
    if (r) return r > 0 ? 0 : 2;
    char err[2048];
    int status = 1;
    char *text = NULL, *rendered = NULL;
    int32_t *ids = NULL;
    size_t nids = 0;
    Sampler *smp = NULL;
    TokStream *ts = NULL;
    Logits lg = {0};
    Loaded L;
    memset(&L, 0, sizeof L);
    ChatConfig cc;
    memset(&cc, 0, sizeof cc);
    Checkpoint *ck = NULL;

    if (a.prompt_file) {
        size_t len;
        if (!(text = read_text(a.prompt_file, &len))) {
            fprintf(stderr, "%s: error: cannot read: %s\n", a.prompt_file, strerror(errno));
            return 1;
        }
    } else {
        text = strdup(a.prompt ? a.prompt : (a.chat ? "Hello!" : "Once upon a time"));
    }
    /* the context: -c, else min(4096, max_position_embeddings) once the directory is known */
    HubOptions ho;
    hub_options_init(&ho);
    char dir[4096];
    if (hub_resolve(a.model, &ho, dir, sizeof dir, err, sizeof err) != 0) {
        report(err);
        goto done;
    }
    /* the checkpoint's own facts: EOS ids (config.json and generation_config.json), context */
    CkptError cerr;
    if (ckpt_open(dir, &ck, &cerr) != 0) {
        report(cerr.msg);
        goto done;
    }
    int64_t ctx = a.ctx;
    if (!ctx) {
        int64_t mp = ckpt_max_position_embeddings(ck);
        ctx = mp > 0 && mp < 4096 ? mp : 4096;
    }
    /* --chat: the template is checked before the model is compiled and loaded */
    char tmpl_path[4200];
    snprintf(tmpl_path, sizeof tmpl_path, "%s/tokenizer_config.json", dir);
    if (a.chat && access(tmpl_path, F_OK) == 0 && chat_config_load(tmpl_path, &cc, err, sizeof err) != 0) {
        report(err);
        goto done;
    }
    if (a.chat && !cc.chat_template && !a.chat_format) {
        fprintf(stderr, "%s: error: the checkpoint has no chat_template; run without --chat, or name a built-in "
                        "format with --chat-format\n", tmpl_path);
        goto done;
    }
    double t_load = now_s();
    if (load(&a, &L, ctx, ctx < 512 ? ctx : 512, 1) != 0) goto done;
    t_load = now_s() - t_load;

    const char *prompt = text;
    if (a.chat) {
        ChatMessage msgs[2];
        int nm = 0;
        if (a.system) { msgs[nm].role = "system"; msgs[nm].content = a.system; nm++; }
        msgs[nm].role = "user";
        msgs[nm].content = text;
        nm++;
        ChatFormat fb = CHAT_FMT_NONE;
        int rc = a.chat_format
                     ? chat_render_builtin(chat_format_from_name(a.chat_format), msgs, nm, cc.bos_token, cc.eos_token,
                                           1, &rendered, err, sizeof err)
                     : chat_apply(cc.chat_template, msgs, nm, cc.bos_token, cc.eos_token, 1, &rendered, &fb, err,
                                  sizeof err);
        if (rc != CHAT_OK) {
            fprintf(stderr, "%s: %s\n", tmpl_path, err);
            goto done;
        }
        if (fb != CHAT_FMT_NONE) fprintf(stderr, "%s: warning: %s\n", tmpl_path, err);
        prompt = rendered;
        if (a.verbose) fprintf(stderr, "ueajc: chat prompt:\n%s\n", prompt);
    }
    /* a chat template writes its own BOS as text; a plain prompt gets the tokenizer's default */
    if (tok_encode_ex(L.tok, prompt, strlen(prompt), a.chat ? 0 : TOK_ADD_DEFAULT, &ids, &nids, err, sizeof err) != 0) {
        report(err);
        goto done;
    }
    if (nids == 0) { fprintf(stderr, "ueajc: error: the prompt is empty\n"); goto done; }
    if ((int64_t)nids >= ctx) {
        fprintf(stderr, "ueajc: error: the prompt has %zu tokens; the context holds %lld (raise -c)\n", nids,
                (long long)ctx);
        goto done;
    }
    int64_t V = engine_vocab(L.eng);
    if (tok_vocab_size(L.tok) > V) {
        fprintf(stderr, "ueajc: error: the tokenizer has %d tokens but the model's vocabulary %lld\n",
                tok_vocab_size(L.tok), (long long)V);
        goto done;
    }
    lg.V = V;
    smp = sampler_new(&a.sc);
    ts = tok_stream_new(L.tok, TOK_SKIP_SPECIAL, err, sizeof err);
    if (!smp || !ts) { fprintf(stderr, "ueajc: error: %s\n", ts ? "out of memory" : err); goto done; }
    if (a.verbose) fprintf(stderr, "ueajc: seed %llu\n", (unsigned long long)sampler_seed(smp));

    /* prefill: the whole prompt, in chunks of the engine's batch */
    double t0 = now_s();
    for (size_t off = 0; off < nids;) {
        int chunk = (int)(nids - off > 512 ? 512 : nids - off);
        if (chunk > ctx) chunk = (int)ctx;
        if (engine_forward(L.eng, ids + off, chunk, (int64_t)off, a.logits_out != NULL, err, sizeof err) != 0) {
            report(err);
            goto done;
        }
        if (a.logits_out && logits_add(&lg, engine_logits(L.eng), engine_logits_rows(L.eng)) != 0) goto oom;
        off += (size_t)chunk;
        if (off == nids) break;
    }
    double t_prompt = now_s() - t0;
    float *last = malloc(sizeof(float) * (size_t)V);
    int32_t *hist = malloc(sizeof(int32_t) * (size_t)ctx);
    if (!last || !hist) { free(last); free(hist); goto oom; }
    memcpy(hist, ids, sizeof(int32_t) * nids);
    int64_t nhist = (int64_t)nids;
    /* the last prompt token's logits: the last row of the last call */
    memcpy(last, engine_logits(L.eng) + (engine_logits_rows(L.eng) - 1) * V, sizeof(float) * (size_t)V);
    int generated = 0, stopped_eos = 0;
    double t_gen = 0;
    int limit = a.n_predict < 0 ? (int)(ctx - (int64_t)nids) : a.n_predict;
    fflush(stdout);
    while (generated < limit && nhist < ctx) {
        int32_t next = sampler_sample(smp, last, (int32_t)V, hist, (int)nhist);
        hist[nhist++] = next;
        generated++;
        const char *piece;
        size_t plen;
        if (tok_stream_put(ts, next, &piece, &plen, err, sizeof err) == 0 && plen) {
            fwrite(piece, 1, plen, stdout);
            fflush(stdout);
        }
        if (!a.ignore_eos && (tok_is_eos(L.tok, next) || ckpt_is_eos(ck, next))) { stopped_eos = 1; break; }
        if (generated >= limit || nhist >= ctx) break;
        double t1 = now_s();
        if (engine_forward(L.eng, &next, 1, nhist - 1, 0, err, sizeof err) != 0) {
            fputc('\n', stderr);
            report(err);
            free(last);
            free(hist);
            goto done;
        }
        t_gen += now_s() - t1;
        memcpy(last, engine_logits(L.eng), sizeof(float) * (size_t)V);
        if (a.logits_out && logits_add(&lg, last, 1) != 0) { free(last); free(hist); goto oom; }
    }
    const char *piece;
    size_t plen;
    if (tok_stream_finish(ts, &piece, &plen) == 0 && plen) fwrite(piece, 1, plen, stdout);
    fputc('\n', stdout);
    fflush(stdout);
    free(last);
    free(hist);
    int steps = generated > 0 ? generated - 1 : 0; /* forward passes after the prompt */
    fprintf(stderr, "\nueajc: %s after %d tokens\n", stopped_eos ? "end of sequence" : "stopped", generated);
    fprintf(stderr, "ueajc: load time        = %10.2f ms\n", t_load * 1e3);
    fprintf(stderr, "ueajc: prompt eval time = %10.2f ms / %5zu tokens (%8.2f ms per token, %8.2f tokens per second)\n",
            t_prompt * 1e3, nids, t_prompt * 1e3 / (double)nids, (double)nids / t_prompt);
    fprintf(stderr, "ueajc:        eval time = %10.2f ms / %5d runs   (%8.2f ms per token, %8.2f tokens per second)\n",
            t_gen * 1e3, steps, steps ? t_gen * 1e3 / steps : 0.0, steps && t_gen > 0 ? steps / t_gen : 0.0);
    if (a.logits_out) {
        HostTensor ht = {0};
        ht.dtype = DT_F32;
        ht.rank = 2;
        ht.shape[0] = lg.rows;
        ht.shape[1] = V;
        ht.data = lg.v;
        ht.nbytes = sizeof(float) * (size_t)(lg.rows * V);
        ht.view = 1;
        TioError terr;
        if (tio_write_npy(a.logits_out, &ht, &terr) != 0) { fprintf(stderr, "%s\n", terr.msg); goto done; }
    }
    status = 0;
    goto done;
oom:
    fprintf(stderr, "ueajc: error: out of memory\n");
done:
    chat_config_free(&cc);
    ckpt_close(ck);
    free(lg.v);
    tok_stream_free(ts);
    sampler_free(smp);
    free(ids);
    free(rendered);
    free(text);
    unload(&L);
    return status;
}

static void stats(const double *x, int n, double *mean, double *sd)
{
    double s = 0, q = 0;
    for (int i = 0; i < n; i++) s += x[i];
    *mean = s / n;
    for (int i = 0; i < n; i++) q += (x[i] - *mean) * (x[i] - *mean);
    *sd = n > 1 ? sqrt(q / (n - 1)) : 0;
}

int ueaj_bench_main(int argc, char **argv)
{
    RunArgs a;
    int r = parse_args(argc, argv, &a, 1);
    if (r) return r > 0 ? 0 : 2;
    Loaded L;
    int64_t ctx = a.bench_p > a.n_predict ? a.bench_p : a.n_predict;
    if (load(&a, &L, ctx, a.bench_p, 0) != 0) { unload(&L); return 1; }
    char err[1024];
    int64_t V = engine_vocab(L.eng);
    int32_t *ids = malloc(sizeof(int32_t) * (size_t)ctx);
    double *pp = calloc((size_t)a.reps, sizeof(double)), *tg = calloc((size_t)a.reps, sizeof(double));
    if (!ids || !pp || !tg) { free(ids); free(pp); free(tg); unload(&L); return 1; }
    for (int64_t i = 0; i < ctx; i++) ids[i] = (int32_t)((i * 7919 + 13) % V);
    /* on a GPU the device's time (CUDA events), elsewhere the wall clock */
    const int dev_time = !strcmp(engine_device(L.eng), "cuda");
#define CLOCK_S() (dev_time ? engine_device_ms(L.eng) * 1e-3 : now_s())
    /* one warm-up of each */
    if (engine_forward(L.eng, ids, a.bench_p, 0, 0, err, sizeof err) != 0 ||
        engine_forward(L.eng, ids, 1, 0, 0, err, sizeof err) != 0)
        goto fail;
    for (int rep = 0; rep < a.reps; rep++) {
        double t0 = CLOCK_S();
        if (engine_forward(L.eng, ids, a.bench_p, 0, 0, err, sizeof err) != 0) goto fail;
        pp[rep] = a.bench_p / (CLOCK_S() - t0);
        t0 = CLOCK_S();
        for (int i = 0; i < a.n_predict; i++)
            if (engine_forward(L.eng, ids + i, 1, i, 0, err, sizeof err) != 0) goto fail;
        tg[rep] = a.n_predict / (CLOCK_S() - t0);
    }
#undef CLOCK_S
    double m, sd;
    double gb = (double)engine_weight_bytes(L.eng) / 1e9;
    /* backend CPU (with its threads), CUDA or harness (threads: -) */
    printf("| model | size | backend | threads | test | t/s | weight GB/s |\n|---|---|---|---|---|---|---|\n");
    const char *dev = engine_device(L.eng);
    const char *backend = !strcmp(dev, "cpu") ? "CPU" : !strcmp(dev, "cuda") ? "CUDA" : "harness";
    char threads[16] = "-";
    if (!strcmp(dev, "cpu")) snprintf(threads, sizeof threads, "%d", a.threads > 0 ? a.threads : (int)sysconf(_SC_NPROCESSORS_ONLN));
    stats(pp, a.reps, &m, &sd);
    printf("| %s | %.2f GB | %s | %s | pp%d | %.2f ± %.2f | |\n", a.model, gb, backend, threads, a.bench_p, m, sd);
    stats(tg, a.reps, &m, &sd);
    printf("| %s | %.2f GB | %s | %s | tg%d | %.2f ± %.2f | %.1f |\n", a.model, gb, backend, threads, a.n_predict, m,
           sd, m * gb);
    free(ids); free(pp); free(tg);
    unload(&L);
    return 0;
fail:
    report(err);
    free(ids); free(pp); free(tg);
    unload(&L);
    return 1;
}
