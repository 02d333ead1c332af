/* nvrtc.h - CUDA source -> PTX or CUBIN through NVRTC, loaded with dlopen.
 *
 * libnvrtc is never linked: it is looked up at run time ($UEAJ_LIBNVRTC,
 * then libnvrtc.so.13, .so.12, libnvrtc.so, then the same names in
 * /usr/local/cuda/lib64), so ueajc runs on machines without the CUDA
 * toolkit and says so when asked for CUDA output.  Results are cached on
 * disk (the C backend's cache directory, runtime/jit_c.c) under a hash of
 * the source, its file name, the options, the architecture and NVRTC's
 * version; a cached entry keeps its program log, so per-kernel resource
 * usage (-Xptxas=-v) is available on hits too.  Used by `ueajc ... -o
 * OUT.ptx|OUT.cubin` and by a runtime that compiles at load time.
 * Nothing here keeps global state or exits.
 */
#ifndef UEAJ_NVRTC_H
#define UEAJ_NVRTC_H

#include <stddef.h>

typedef struct NvrtcOptions {
    const char *arch;          /* "sm_90" (NULL: sm_90); PTX uses compute_90 */
    int         ptx;           /* 1: PTX text, 0: a CUBIN */
    int         ptxas_verbose; /* CUBIN only: -Xptxas=-v, per-kernel resources in the log */
    const char *cache_dir;     /* NULL: jit_cache_dir's default */
    int         no_cache;      /* 1: always compile, write nothing to the cache */
} NvrtcOptions;

typedef struct NvrtcOutput {
    char  *code;               /* PTX (NUL-terminated) or CUBIN bytes; malloc'd */
    size_t size;               /* bytes of code (PTX: without the NUL) */
    char  *log;                /* the program log; malloc'd, never NULL on success */
    int    cache_hit;
    double compile_ms;         /* 0 on a cache hit */
    int    major, minor;       /* NVRTC's version */
    char   cache_path[4200];   /* the cached code, "" with no_cache */
} NvrtcOutput;

/* Per-kernel resources from ptxas's -v lines. */
typedef struct NvrtcKernelStats {
    char name[128];
    int  regs, spill_stores, spill_loads, stack, smem;
} NvrtcKernelStats;

/* Compiles `src` (named `name`, e.g. "llama.cu", in messages).  Returns 0,
 * or -1 with a message in err: NVRTC missing, an unknown architecture, or
 * the compile log (its lines name `name`). */
int  nvrtc_compile(const char *src, const char *name, const NvrtcOptions *o, NvrtcOutput *out, char *err,
                   size_t errlen);
void nvrtc_output_free(NvrtcOutput *out);

/* The architectures this NVRTC compiles for (e.g. 75, 80, ..., 120), in
 * increasing order.  Returns their count (at most max), or -1 with a
 * message when NVRTC cannot be loaded. */
int  nvrtc_supported_archs(int *archs, int max, char *err, size_t errlen);

/* Parses a program log's ptxas -v lines: a malloc'd array of *n entries in
 * the order ptxas reports them (NULL, 0 when there are none). */
NvrtcKernelStats *nvrtc_parse_ptxas(const char *log, int *n);

#endif
