/* cuda_out.h - the CUDA outputs of a compiled graph: the inspection stages
 * (--emit=cuda, cuda-kernels, plan, ptxas) and the files -o OUT.cu,
 * OUT.ptx, OUT.cubin (through NVRTC, runtime/nvrtc.c). */
#ifndef UEAJ_CUDA_OUT_H
#define UEAJ_CUDA_OUT_H

#include "internal.h"

/* Is this --emit stage / output path a CUDA one? */
bool cuda_is_emit(const char *emit);
bool cuda_is_output(const char *path);
/* Checks --arch (NULL: the default, sm_90): "sm_NN" that NVRTC accepts.
 * Returns 0, or -1 with a message listing the accepted ones in err. */
int cuda_check_arch(const char *arch, char *err, size_t errlen);
/* Emits g in the CUDA dialect and does the job: prints the stage `emit`,
 * or writes out_path atomically.  Re-runs pass_layout with no packing
 * (weights stay row-major for cuBLASLt).  Returns the exit status (0 ok, 1 error);
 * messages go to stderr. */
int cuda_job(UeajCtx *ctx, IrGraph *g, const char *emit, const char *out_path, const char *arch,
             const UeajOptions *copt);

#endif
