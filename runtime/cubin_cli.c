/* cubin_cli.c - `ueajc inspect FILE.cubin [--plan|--source|--kernels]`: what a cubin made by
 * `ueajc FILE.ue -o OUT.cubin` holds, read without a GPU.
 *
 * It checks the file is a CUDA cubin (cuda_cubin_arch), finds the launch
 * plan inside (cuda_plan_from_cubin: the ELF symbol `ueaj_plan`), parses it
 * strictly (cuda_plan_parse: a plan from another ueajc version is refused
 * by its version line) and prints one summary: the architecture, the run-time
 * dims, the tensors by kind with their bytes at fixed sizes, and the steps
 * (kernel launches, cuBLASLt matmuls), the config.json fields it was
 * compiled for, and whether it carries its CUDA source.  --plan prints the
 * plan text itself, --source the CUDA source (`ueaj_source`), --kernels one
 * line per kernel: registers, static shared memory and code size as the
 * cubin records them (cubin_elf.c), beside the plan's launch geometry.
 * A corrupted or truncated file gets one message naming the file; nothing
 * here can crash on bad input (every ELF offset is bounds-checked).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cuda_plan.h"
#include "fsutil.h"

int ueaj_inspect_main(int argc, char **argv);

static void usage(FILE *f)
{
    fprintf(f, "usage: ueajc inspect FILE.cubin [--plan | --source | --kernels]\n"
               "prints the GPU architecture a cubin was built for and the launch plan inside it\n"
               "(--plan: the plan's text, format in runtime/cuda_plan.h; --source: the CUDA source\n"
               "the cubin was compiled from, which `ueajc FILE.ue -o OUT.cubin` puts inside it;\n"
               "--kernels: registers, static shared memory and code size of each kernel, and how\n"
               "the plan launches it)\n");
}

/* An EXPR as the plan writes it: 64*d0/256 */
static void expr_str(char *out, size_t n, const CudaPlanExpr *e)
{
    int k = snprintf(out, n, "%lld", (long long)e->c);
    if (e->c == 1 && e->ndyn) k = 0, out[0] = 0;
    for (int i = 0; i < e->ndyn && k >= 0 && (size_t)k < n; i++)
        k += snprintf(out + k, n - (size_t)k, "%sd%d", k ? "*" : "", e->dyn[i]);
    if (e->div > 1 && k >= 0 && (size_t)k < n) snprintf(out + k, n - (size_t)k, "/%lld", (long long)e->div);
}

int ueaj_inspect_main(int argc, char **argv)
{
    const char *path = NULL;
    int want_plan = 0, want_source = 0, want_kernels = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--plan")) want_plan = 1;
        else if (!strcmp(argv[i], "--source")) want_source = 1;
        else if (!strcmp(argv[i], "--kernels")) want_kernels = 1;
        else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) { usage(stdout); return 0; }
        else if (argv[i][0] == '-' && argv[i][1]) {
            fprintf(stderr, "ueajc: error: inspect: unknown option '%s'\n", argv[i]);
            usage(stderr);
            return 2;
        } else if (path) {
            fprintf(stderr, "ueajc: error: inspect: one file at a time ('%s' and '%s')\n", path, argv[i]);
            return 2;
        } else path = argv[i];
    }
    if (!path) { usage(stderr); return 2; }
    if (want_plan + want_source + want_kernels > 1) {
        fprintf(stderr, "ueajc: error: inspect: one of --plan, --source and --kernels\n");
        return 2;
    }
    size_t n = 0;
    char *img = fs_read_all(path, &n);
    if (!img) { fprintf(stderr, "ueajc: error: cannot read %s: %s\n", path, strerror(errno)); return 1; }
    char err[1024];
    int sm = 0, status = 1;
    char *text = NULL;
    CudaPlan *p = NULL;
    if (cuda_cubin_arch(img, n, path, &sm, err, sizeof err) != 0) goto fail;
    text = cuda_plan_from_cubin(img, n, path, err, sizeof err);
    if (!text) goto fail;
    char where[1100];
    snprintf(where, sizeof where, "%s (its ueaj_plan)", path);
    p = cuda_plan_parse(text, strlen(text), where, err, sizeof err);
    if (!p) goto fail;
    if (want_plan) {
        fputs(text, stdout);
        status = 0;
        goto done;
    }
    if (want_kernels) {
        CubinKernel *k = NULL;
        int nk = 0;
        if (cuda_cubin_kernels(img, n, path, &k, &nk, err, sizeof err) != 0) goto fail;
        printf("%-14s %9s %12s %11s  %s\n", "kernel", "registers", "static smem", "code bytes",
               "launch: grid x block, dynamic smem (the plan's EXPRs)");
        /* in the order the plan first launches them, then any it does not launch */
        int *order = malloc(sizeof(int) * (size_t)(nk + 1)), no = 0;
        if (!order) { cuda_cubin_kernels_free(k, nk); snprintf(err, sizeof err, "out of memory"); goto fail; }
        for (int q = 0; q < p->nsteps; q++)
            for (int i = 0; i < nk; i++)
                if (p->steps[q].kind == CUDA_STEP_LAUNCH && !strcmp(p->steps[q].name, k[i].name)) {
                    int seen = 0;
                    for (int j = 0; j < no; j++) seen |= order[j] == i;
                    if (!seen) order[no++] = i;
                }
        for (int i = 0; i < nk; i++) {
            int seen = 0;
            for (int j = 0; j < no; j++) seen |= order[j] == i;
            if (!seen) order[no++] = i;
        }
        for (int oi = 0; oi < nk; oi++) {
            const int i = order[oi];
            const CudaPlanStep *st = NULL;
            for (int q = 0; q < p->nsteps && !st; q++)
                if (p->steps[q].kind == CUDA_STEP_LAUNCH && !strcmp(p->steps[q].name, k[i].name)) st = &p->steps[q];
            char regs[16];
            if (k[i].regs >= 0) snprintf(regs, sizeof regs, "%d", k[i].regs);
            else snprintf(regs, sizeof regs, "?");
            printf("%-14s %9s %12lld %11lld  ", k[i].name, regs, (long long)k[i].smem, (long long)k[i].code_bytes);
            if (st) {
                char g[64], bl[64], dsm[64];
                expr_str(g, sizeof g, &st->grid[0]);
                expr_str(bl, sizeof bl, &st->block[0]);
                expr_str(dsm, sizeof dsm, &st->smem);
                printf("%s x %s, %s\n", g, bl, dsm);
            } else {
                printf("(not launched by the plan)\n");
            }
        }
        printf("(%d kernels; registers from the cubin's .nv.info, as ptxas -v reports them)\n", nk);
        free(order);
        cuda_cubin_kernels_free(k, nk);
        status = 0;
        goto done;
    }
    char *src = cuda_cubin_string(img, n, "ueaj_source", path, err, sizeof err);
    if (want_source) {
        if (!src) goto fail;
        fputs(src, stdout);
        free(src);
        status = 0;
        goto done;
    }
    printf("%s: CUDA cubin for sm_%d, %zu bytes; launch plan version 1\n", path, sm, n);
    printf("run-time dims:");
    for (int i = 0; i < p->ndims; i++) printf(" %s", p->dim_names[i]);
    printf("%s\n", p->ndims ? "" : " none");
    static const char *const kinds[] = {"input", "param", "output", "temp", "state"};
    for (int k = 0; k < 5; k++) {
        int cnt = 0, dynamic = 0;
        double bytes = 0;
        for (int i = 0; i < p->ntensors; i++) {
            const CudaPlanTensor *t = &p->tensors[i];
            if (t->kind != k) continue;
            cnt++;
            double e = !strcmp(t->dtype, "f64") ? 8 : !strcmp(t->dtype, "bf16") || !strcmp(t->dtype, "f16") ? 2
                     : t->dtype[0] == 'f' && t->dtype[1] == '8' ? 1 : 4;
            for (int a = 0; a < t->rank; a++) {
                if (t->shape[a] < 0) dynamic = 1;
                else e *= (double)t->shape[a];
            }
            bytes += e;
        }
        if (!cnt) continue;
        printf("%-7s %4d tensor%s, %.3g MB%s\n", kinds[k], cnt, cnt == 1 ? "" : "s", bytes / 1e6,
               dynamic ? " (times the run-time dims where they appear)" : "");
    }
    int nl = 0, ng = 0;
    for (int i = 0; i < p->nsteps; i++) {
        if (p->steps[i].kind == CUDA_STEP_LAUNCH) nl++;
        else ng++;
    }
    printf("steps   %4d: %d kernel launches, %d cuBLASLt matmuls\n", p->nsteps, nl, ng);
    if (p->nconfig) printf("config  %4d fields of config.json it was compiled for (--plan lists them)\n", p->nconfig);
    if (src) printf("source  %zu bytes of CUDA C inside (--source prints it)\n", strlen(src));
    else printf("source  none inside (not written by `ueajc FILE.ue -o OUT.cubin`)\n");
    free(src);
    status = 0;
    goto done;
fail:
    fprintf(stderr, "ueajc: error: %s\n", err);
done:
    cuda_plan_free(p);
    free(text);
    free(img);
    return status;
}
