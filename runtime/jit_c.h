/* jit_c.h - compiling generated C into a shared object and loading it. */
#ifndef UEAJ_JIT_C_H
#define UEAJ_JIT_C_H

#include <stddef.h>
#include <stdint.h>

typedef void (*UeajForwardFn)(void *const *bufs, const int64_t *dyn);

typedef struct JitModule {
    void         *handle;     /* dlopen handle */
    UeajForwardFn forward;
    void        (*set_threads)(int n); /* NULL if the object has none */
    char          so_path[4096];
    int           cache_hit;  /* 1: the object was already in the cache */
    double        compile_ms; /* 0 on a cache hit */
} JitModule;

/* The cache directory: dir if non-NULL, else $UEAJ_CACHE, else
 * $XDG_CACHE_HOME/ueajc, else $HOME/.cache/ueajc (created if missing). */
int jit_cache_dir(const char *dir, char *out, size_t outlen, char *err, size_t errlen);

/* Compiles `source` (unless an object with the same key is cached), loads
 * it and resolves ueaj_forward.  The key hashes the source, the compiler
 * command and flags, and the compiler's version.  Entries are written to
 * a temporary name and renamed, so a crash never leaves a half-written
 * object in the cache.  Returns 0, or -1 with a message in err. */
int jit_c_load(const char *source, const char *cache_dir, const char *cc, int verbose, JitModule *m,
               char *err, size_t errlen);

/* Writes `source` and compiles it to exactly `so_path` (for `-o x.so`). */
int jit_c_compile_to(const char *source, const char *so_path, const char *cc, char *err, size_t errlen);

void jit_c_close(JitModule *m);

#endif
