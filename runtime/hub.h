/* hub.h - `-m MODEL`: a model directory, or a Hugging Face model id that is
 * found in (or downloaded into) the Hugging Face cache.
 *
 * hub_resolve() turns "meta-llama/Llama-3.2-1B", "ORG/NAME@REVISION" or a
 * directory into the path of a directory holding config.json, the
 * tokenizer files and the safetensors weights.  Model ids live in the
 * cache layout that huggingface_hub uses, so the Python tools and ueajc
 * share downloads:
 *
 *   CACHE/models--ORG--NAME/refs/REV            the commit hash REV points to
 *   CACHE/models--ORG--NAME/blobs/ETAG          file contents, named by ETag
 *   CACHE/models--ORG--NAME/snapshots/HASH/FILE symlink ../../blobs/ETAG
 *   CACHE/models--ORG--NAME/.no_exist/HASH/FILE optional file absent upstream
 *   CACHE/.locks/models--ORG--NAME/ETAG.lock    flock()ed while downloading
 *
 * A complete snapshot is returned without any network access; otherwise
 * the needed files are downloaded with libcurl (see hub.c for the rules).
 * Every setting comes from HubOptions; a NULL/-1 field means "take it from
 * the environment as the Hugging Face tools do", so tests can pass
 * everything explicitly and the CLI can pass nothing.
 */
#ifndef UEAJ_HUB_H
#define UEAJ_HUB_H

#include <stddef.h>
#include <stdio.h>

typedef enum HubProgress {
    HUB_PROGRESS_AUTO = 0,   /* a bar when `log` is a terminal and $HF_HUB_DISABLE_PROGRESS_BARS is unset */
    HUB_PROGRESS_NEVER,
    HUB_PROGRESS_ALWAYS      /* even into a file or pipe (one line per file, updated with \r) */
} HubProgress;

typedef struct HubOptions {
    const char *endpoint;    /* NULL: $HF_ENDPOINT, else https://huggingface.co */
    const char *cache_dir;   /* NULL: $HF_HUB_CACHE, else $HF_HOME/hub, else
                                $XDG_CACHE_HOME/huggingface/hub, else ~/.cache/huggingface/hub */
    const char *token;       /* NULL: $HF_TOKEN, else the token file; "": send no token */
    const char *token_path;  /* NULL: $HF_TOKEN_PATH, else $HF_HOME/token, else
                                (XDG_CACHE_HOME or ~/.cache)/huggingface/token */
    int         offline;     /* -1: $HF_HUB_OFFLINE (1/true/yes/on); 0: may download; 1: never */
    HubProgress progress;
    int         verbose;     /* one line per request: method, URL, status (never the token) */
    FILE       *log;         /* progress and verbose lines; NULL: stderr */
    long        connect_timeout_s;  /* 0: 15 */
    long        stall_timeout_s;    /* 0: 60 (abort a transfer slower than 1 byte/s this long) */
} HubOptions;

/* All fields "from the environment" (NULL, offline -1, progress AUTO). */
void hub_options_init(HubOptions *o);

/* model_arg: an existing directory (returned as given), or ID[@REVISION]
 * with ID = NAME or ORG/NAME (letters, digits, '-', '_', '.'; no "--" or
 * ".."), REVISION a branch, tag or commit hash (default "main").
 * On success writes the directory to dir_out and returns 0; on failure
 * returns -1 with one line in err naming what failed (the URL without its
 * query string, the cache path, the missing file) and what to do.  The
 * token is never written to err or to the log.  Never exits. */
int hub_resolve(const char *model_arg, const HubOptions *opt, char *dir_out, size_t dirlen,
                char *err, size_t errlen);

/* The cache directory hub_resolve would use (not created).  0, or -1 if
 * it does not fit in outlen or no HOME is known. */
int hub_cache_dir(const HubOptions *opt, char *out, size_t outlen);

/* 1 if arg has the shape of a model id (ID[@REVISION]), else 0.  Useful
 * for messages: a path that does not exist is not a model id. */
int hub_is_model_id(const char *arg);

#endif
