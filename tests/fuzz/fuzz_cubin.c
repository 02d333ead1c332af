/* fuzz_cubin.c - bytes as a cubin into the ELF readers (runtime/cubin_elf.c):
 * its architecture, the plan and source strings it carries, and the
 * per-kernel resources `ueajc inspect --kernels` prints.  A cubin given to
 * `ueajc run --cubin` or `inspect` may be truncated or hostile: every
 * input must give an answer or a message, never a crash, a leak or
 * undefined behaviour.  A plan found inside is parsed too. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "cuda_plan.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[512];
    int sm = 0;
    (void)cuda_cubin_arch(data, size, "fuzz.cubin", &sm, err, sizeof err);
    char *plan = cuda_plan_from_cubin(data, size, "fuzz.cubin", err, sizeof err);
    if (plan) {
        CudaPlan *p = cuda_plan_parse(plan, strlen(plan), "fuzz.cubin (its ueaj_plan)", err, sizeof err);
        cuda_plan_free(p);
        free(plan);
    }
    free(cuda_cubin_string(data, size, "ueaj_source", "fuzz.cubin", err, sizeof err));
    CubinKernel *k = NULL;
    int n = 0;
    if (cuda_cubin_kernels(data, size, "fuzz.cubin", &k, &n, err, sizeof err) == 0) cuda_cubin_kernels_free(k, n);
    return 0;
}
