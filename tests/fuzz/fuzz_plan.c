/* fuzz_plan.c - launch-plan text (runtime/cuda_plan.h) into cuda_plan_parse.
 *
 * A plan arrives from a cubin, which may be corrupted or hostile: every
 * input must give a plan or a message, never a crash, a leak or undefined
 * behaviour.  A parsed plan's EXPRs are also evaluated at a few run-time
 * dims, as the executor does (overflow must be reported, not wrap). */
#include <stdint.h>
#include <stdlib.h>
#include "cuda_plan.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[512];
    CudaPlan *p = cuda_plan_parse((const char *)data, size, "fuzz.plan", err, sizeof err);
    if (!p) return 0;
    static const int64_t dims[3][CUDA_PLAN_MAX_DIMS] = {
        {1, 1, 1, 1, 1, 1, 1, 1}, {512, 4096, 512, 7, 7, 7, 7, 7}, {INT64_MAX / 2, 3, INT64_MAX, 0, 0, 0, 0, 0}};
    for (int d = 0; d < 3; d++)
        for (int s = 0; s < p->nsteps; s++) {
            const CudaPlanStep *st = &p->steps[s];
            if (st->kind == CUDA_STEP_LAUNCH) {
                for (int k = 0; k < 3; k++) {
                    (void)cuda_plan_eval(&st->grid[k], dims[d]);
                    (void)cuda_plan_eval(&st->block[k], dims[d]);
                }
                (void)cuda_plan_eval(&st->smem, dims[d]);
            } else {
                const CudaPlanExpr *e[] = {&st->m, &st->n, &st->k, &st->lda, &st->ldb, &st->ldd,
                                           &st->batch, &st->sa, &st->sb, &st->sd};
                for (size_t k = 0; k < sizeof e / sizeof *e; k++) (void)cuda_plan_eval(e[k], dims[d]);
            }
        }
    cuda_plan_free(p);
    return 0;
}
