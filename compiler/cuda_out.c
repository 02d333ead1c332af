/* cuda_out.c - the CUDA outputs of a compiled graph (see cuda_out.h).
 *
 *   --emit=cuda          the generated CUDA source (prelude, kernels, plan)
 *   --emit=cuda-kernels  the same without the fixed prelude
 *   --emit=plan          the launch plan as text (runtime/cuda_plan.h)
 *   --emit=ptxas         NVRTC -> CUBIN with -Xptxas=-v: registers, spills,
 *                        stack and shared memory of every kernel
 *   -o OUT.cu            the source;  -o OUT.ptx, -o OUT.cubin  through NVRTC
 * Files are written to a temporary name and renamed into place.
 *
 * A .ptx or .cubin is self-contained: besides the plan (ueaj_plan) it
 * carries the CUDA source it was compiled from as the global string
 * `ueaj_source`, so `ueajc inspect x.cubin --source` shows the kernels
 * and the CUDA-on-CPU harness can run a cubin's model in CI
 * (`ueajc run --cubin x.cubin --device harness`).  The string costs the
 * source's size in device memory (about 100 KiB for a LLaMA).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cuda_out.h"
#include "dialect.h"
#include "nvrtc.h"

/* What NVRTC 13 compiles for (used when NVRTC itself cannot be asked). */
static const int known_archs[] = {75, 80, 86, 87, 88, 89, 90, 100, 103, 110, 120, 121};

static bool has_suffix(const char *s, const char *suf)
{
    if (!s) return false;
    size_t n = strlen(s), m = strlen(suf);
    return n >= m && strcmp(s + n - m, suf) == 0;
}

bool cuda_is_emit(const char *emit)
{
    return emit && (!strcmp(emit, "cuda") || !strcmp(emit, "cuda-kernels") || !strcmp(emit, "plan") ||
                    !strcmp(emit, "ptxas"));
}

bool cuda_is_output(const char *path)
{
    return path && (has_suffix(path, ".cu") || has_suffix(path, ".ptx") || has_suffix(path, ".cubin"));
}

int cuda_check_arch(const char *arch, char *err, size_t errlen)
{
    if (!arch) return 0;
    int archs[64], n;
    char e2[512];
    n = nvrtc_supported_archs(archs, 64, e2, sizeof e2);
    if (n <= 0) {
        n = (int)(sizeof known_archs / sizeof known_archs[0]);
        memcpy(archs, known_archs, sizeof known_archs);
    }
    int v = -1;
    if (!strncmp(arch, "sm_", 3) && arch[3] >= '1' && arch[3] <= '9') {
        char *end;
        long x = strtol(arch + 3, &end, 10);
        if ((!*end || !strcmp(end, "a") || !strcmp(end, "f")) && x < 10000) v = (int)x;
    }
    for (int i = 0; i < n; i++)
        if (archs[i] == v) return 0;
    int used = snprintf(err, errlen, "--arch %s: not a GPU architecture NVRTC compiles for; accepted:", arch);
    for (int i = 0; i < n && used > 0 && (size_t)used < errlen; i++)
        used += snprintf(err + used, errlen - (size_t)used, " sm_%d", archs[i]);
    return -1;
}

/* The output is opened (under a temporary name) before the work that fills
 * it, so an unwritable path fails fast; write_finish fills and renames it. */
static FILE *write_start(const char *path, char *tmp, size_t tmplen)
{
    snprintf(tmp, tmplen, "%s.tmp.%d", path, (int)getpid());
    FILE *f = fopen(tmp, "wb");
    if (!f) fprintf(stderr, "ueajc: error: cannot write %s: %s\n", path, strerror(errno));
    return f;
}

static int write_finish(FILE *f, const char *tmp, const char *path, const void *data, size_t n)
{
    int bad = fwrite(data, 1, n, f) != n;
    bad |= fclose(f) != 0;
    if (bad || rename(tmp, path) != 0) {
        fprintf(stderr, "ueajc: error: cannot write %s: %s\n", path, strerror(errno));
        unlink(tmp);
        return -1;
    }
    return 0;
}

/* The program's file name in NVRTC's messages: the model's name, made safe. */
static void program_name(char *out, size_t outlen, const char *name)
{
    size_t k = 0;
    for (const char *p = name ? name : "model"; *p && k + 4 < outlen && k < 64; p++) {
        char c = *p;
        out[k++] = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-'
                       ? c : '_';
    }
    if (!k) out[k++] = 'm';
    snprintf(out + k, outlen - k, ".cu");
}

int cuda_job(UeajCtx *ctx, IrGraph *g, const char *emit, const char *out_path, const char *arch,
             const UeajOptions *copt)
{
    char err[65536];
    if (cuda_check_arch(arch, err, sizeof err) != 0) { fprintf(stderr, "ueajc: error: %s\n", err); return 1; }
    /* cuBLASLt reads weights row-major: undo pass_layout's column panels */
    ctx->opt.no_pack = 1;
    pass_layout(ctx, g);
    char *plan = NULL;
    char *src = emit_source_plan(ctx, g, &dialect_cuda, &plan);
    int status = 1;
    char pname[80];
    program_name(pname, sizeof pname, g->name);
    if (emit && !strcmp(emit, "cuda")) {
        fputs(src, stdout);
        status = 0;
    } else if (emit && !strcmp(emit, "cuda-kernels")) {
        printf("/* (the fixed prelude of templates/cuda_prelude.cuh.in is omitted: --emit=cuda shows it) */\n");
        fputs(emit_skip_prelude(src), stdout);
        status = 0;
    } else if (emit && !strcmp(emit, "plan")) {
        fputs(plan, stdout);
        status = 0;
    } else if ((emit && !strcmp(emit, "ptxas")) || has_suffix(out_path, ".ptx") || has_suffix(out_path, ".cubin")) {
        bool stats = emit != NULL;
        char tmp[4200];
        FILE *f = NULL;
        if (!stats && !(f = write_start(out_path, tmp, sizeof tmp))) goto done;
        NvrtcOptions no = {.arch = arch, .ptx = !stats && has_suffix(out_path, ".ptx"), .ptxas_verbose = 1,
                           .cache_dir = copt->cache_dir};
        NvrtcOutput out;
        Buf full;   /* the source, then the source itself as ueaj_source */
        buf_init(&full);
        buf_puts(&full, src);
        if (!stats) {
            buf_puts(&full, "\n/* This file's source up to here, carried by the cubin (ueajc inspect --source). */\n");
            emit_string_global(&full, "ueaj_source", src);
        }
        int rc = nvrtc_compile(full.p, pname, &no, &out, err, sizeof err);
        buf_free(&full);
        if (rc != 0) {
            fprintf(stderr, "ueajc: error: %s\n", err);
            if (f) { fclose(f); unlink(tmp); }
        } else {
            if (copt->verbose)
                fprintf(stderr, "ueajc: NVRTC %d.%d: %s %s for %s (%.1f ms)\n", out.major, out.minor,
                        out.cache_hit ? "cache hit" : "compiled", out.cache_path[0] ? out.cache_path : pname,
                        arch ? arch : "sm_90", out.compile_ms);
            if (stats) {
                int nk = 0;
                NvrtcKernelStats *ks = nvrtc_parse_ptxas(out.log, &nk);
                printf("%-12s %9s %13s %12s %11s %11s\n", "kernel", "registers", "spill stores", "spill loads",
                       "stack", "smem");
                for (int i = nk - 1; i >= 0; i--) /* ptxas reports the last kernel first */
                    printf("%-12s %9d %13d %12d %11d %11d\n", ks[i].name, ks[i].regs, ks[i].spill_stores,
                           ks[i].spill_loads, ks[i].stack, ks[i].smem);
                printf("(%d kernels, %s, NVRTC %d.%d)\n", nk, arch ? arch : "sm_90", out.major, out.minor);
                free(ks);
                status = 0;
            } else {
                status = write_finish(f, tmp, out_path, out.code, out.size) == 0 ? 0 : 1;
            }
            nvrtc_output_free(&out);
        }
    } else if (has_suffix(out_path, ".cu")) {
        char tmp[4200];
        FILE *f = write_start(out_path, tmp, sizeof tmp);
        status = f && write_finish(f, tmp, out_path, src, strlen(src)) == 0 ? 0 : 1;
    } else {
        ueaj_unreachable();
    }
done:
    free(plan);
    free(src);
    return status;
}
