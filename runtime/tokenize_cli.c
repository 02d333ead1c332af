/* tokenize_cli.c - the `ueajc tokenize` command: encode text to ids or
 * decode ids to text with a HuggingFace tokenizer, for checking a
 * tokenizer against other implementations from the shell.
 *
 *   ueajc tokenize -m DIR|tokenizer.json [--bos] [--special-as-text] (TEXT | -f FILE)
 *       prints the ids, space-separated, on one line (FILE "-" is stdin;
 *       the text is taken byte for byte, no trailing newline is removed)
 *   ueajc tokenize -m DIR|tokenizer.json --decode [--skip-special] ID...
 *       prints the text and a newline; IDs may also be given as one
 *       argument separated by spaces or commas ("$(ueajc tokenize ...)")
 *
 * Errors go to stderr as "ueajc: error: ..." (tokenizer messages carry
 * their own "FILE: error:" prefix); the exit status is 1, or 2 for a usage
 * error.  Everything allocated is released before returning, so that the
 * command can be tested under LeakSanitizer.
 */
#include "tokenizer.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage_text[] =
    "usage: ueajc tokenize -m DIR|tokenizer.json [--bos] [--special-as-text] (TEXT | -f FILE)\n"
    "       ueajc tokenize -m DIR|tokenizer.json --decode [--skip-special] ID...\n"
    "  -m PATH            tokenizer.json, or a directory holding it (and tokenizer_config.json)\n"
    "  --bos              prepend the BOS token\n"
    "  --special-as-text  do not turn special-token strings in the text into special tokens\n"
    "  -f FILE            encode the contents of FILE ('-': standard input)\n"
    "  --decode           decode the ids given as arguments\n"
    "  --skip-special     leave special tokens out of the decoded text\n";

static int usage(const char *msg)
{
    if (msg) fprintf(stderr, "ueajc: error: %s\n", msg);
    fputs(usage_text, stderr);
    return 2;
}

static char *read_all(const char *path, size_t *len)
{
    FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
    if (!f) return NULL;
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        if (n == cap) {
            char *p = realloc(buf, cap *= 2);
            if (!p) { free(buf); buf = NULL; break; }
            buf = p;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0) break;
    }
    int bad = ferror(f);
    if (f != stdin) fclose(f);
    if (bad) { free(buf); errno = EIO; return NULL; }
    if (!buf) errno = ENOMEM;
    *len = n;
    return buf;
}

/* Parses the id arguments (each may hold several ids separated by spaces
 * or commas). */
static int parse_ids(char **args, int nargs, int32_t **ids, size_t *n)
{
    size_t cap = 16;
    *n = 0;
    *ids = malloc(cap * sizeof **ids);
    if (!*ids) { fprintf(stderr, "ueajc: error: out of memory\n"); return 1; }
    for (int a = 0; a < nargs; a++) {
        const char *p = args[a];
        for (;;) {
            while (*p == ' ' || *p == ',' || *p == '\t' || *p == '\n') p++;
            if (!*p) break;
            char *end;
            errno = 0;
            long v = strtol(p, &end, 10);
            if (end == p || errno || v < INT32_MIN || v > INT32_MAX ||
                (*end && *end != ' ' && *end != ',' && *end != '\t' && *end != '\n')) {
                fprintf(stderr, "ueajc: error: '%s' is not a token id\n", args[a]);
                return 2;
            }
            if (*n == cap) {
                int32_t *q = realloc(*ids, (cap *= 2) * sizeof *q);
                if (!q) { fprintf(stderr, "ueajc: error: out of memory\n"); return 1; }
                *ids = q;
            }
            (*ids)[(*n)++] = (int32_t)v;
            p = end;
        }
    }
    return 0;
}

int ueaj_tokenize_main(int argc, char **argv)
{
    const char *model = NULL, *file = NULL;
    int bos = 0, decode = 0, skip = 0, as_text = 0, npos = 0, dashdash = 0;
    char **pos = calloc((size_t)argc + 1, sizeof *pos);
    if (!pos) { fprintf(stderr, "ueajc: error: out of memory\n"); return 1; }
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (dashdash || a[0] != '-' || !a[1] || (decode && a[1] >= '0' && a[1] <= '9')) { pos[npos++] = argv[i]; continue; }
        if (!strcmp(a, "--")) dashdash = 1;
        else if (!strcmp(a, "-h") || !strcmp(a, "--help")) { fputs(usage_text, stdout); free(pos); return 0; }
        else if (!strcmp(a, "--bos")) bos = 1;
        else if (!strcmp(a, "--decode")) decode = 1;
        else if (!strcmp(a, "--skip-special")) skip = 1;
        else if (!strcmp(a, "--special-as-text")) as_text = 1;
        else if (!strcmp(a, "-m") || !strcmp(a, "-f")) {
            if (i + 1 >= argc) { free(pos); return usage(a[1] == 'm' ? "-m needs a tokenizer path" : "-f needs a file"); }
            if (a[1] == 'm') model = argv[++i]; else file = argv[++i];
        } else if (!strncmp(a, "--model=", 8)) model = a + 8;
        else {
            fprintf(stderr, "ueajc: error: unknown option '%s'\n", a);
            free(pos);
            return usage(NULL);
        }
    }
    const char *bad = !model ? "no tokenizer: give -m DIR or -m tokenizer.json"
                    : decode && (file || bos || as_text) ? "--decode takes ids, not --bos, --special-as-text or -f"
                    : decode && npos == 0 ? "--decode needs token ids"
                    : !decode && skip ? "--skip-special goes with --decode"
                    : !decode && file && npos ? "give either TEXT or -f FILE, not both"
                    : !decode && !file && npos != 1 ? (npos ? "give the text as one argument (quote it)"
                                                           : "no text: give TEXT or -f FILE")
                    : NULL;
    if (bad) { free(pos); return usage(bad); }

    char err[1024];
    int status = 1;
    char *text = NULL, *out = NULL;
    int32_t *ids = NULL;
    size_t n = 0, len = 0;
    Tokenizer *t = tok_load(model, err, sizeof err);
    if (!t) { fprintf(stderr, "%s\n", err); goto done; }
    if (decode) {
        int rc = parse_ids(pos, npos, &ids, &n);
        if (rc) { status = rc; goto done; }
        if (tok_decode(t, ids, n, skip ? TOK_SKIP_SPECIAL : 0, &out, &len, err, sizeof err)) {
            fprintf(stderr, "%s\n", err);
            goto done;
        }
        fwrite(out, 1, len, stdout);
        fputc('\n', stdout);
    } else {
        if (file) {
            text = read_all(file, &len);
            if (!text) { fprintf(stderr, "ueajc: error: %s: %s\n", file, strerror(errno)); goto done; }
        }
        const char *s = file ? text : pos[0];
        if (!file) len = strlen(s);
        unsigned flags = (bos ? TOK_ADD_BOS : 0) | (as_text ? TOK_SPECIAL_AS_TEXT : 0);
        if (tok_encode_ex(t, s, len, flags, &ids, &n, err, sizeof err)) {
            fprintf(stderr, "%s\n", err);
            goto done;
        }
        for (size_t i = 0; i < n; i++) printf(i ? " %d" : "%d", (int)ids[i]);
        fputc('\n', stdout);
    }
    status = fflush(stdout) == 0 ? 0 : 1;
    if (status) fprintf(stderr, "ueajc: error: writing the output failed\n");
done:
    free(ids);
    free(out);
    free(text);
    free(pos);
    tok_free(t);
    return status;
}
