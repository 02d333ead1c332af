/* cuda_exec.h - runs a model through its CUDA launch plan.
 *
 * Input: the CUDA source the CUDA dialect generates and its plan text
 * (runtime/cuda_plan.h).  Two backends behind one interface:
 *
 *   "cuda"     a real GPU: libcuda (cuda_api.h) picked with cuda_select,
 *              the source compiled by NVRTC (nvrtc.c, cached) into a cubin
 *              for the device's own sm_XY, loaded with cuModuleLoadData;
 *              one stream; every plan tensor lives in one device arena;
 *              `launch` steps go through cuLaunchKernel, `gemm` steps
 *              through cuBLASLt (descriptors and the heuristic's algorithm
 *              are built once per set of run-time dims, 32 MiB workspace).
 *   "harness"  the CPU stand-in used in CI: the source is rewritten by
 *              tests/cuda/cu2cpu.sh (registering every launched kernel),
 *              compiled by g++ as a shared object against
 *              tests/cuda/cuda_shim.hpp, dlopen'ed, and kernels are launched
 *              by name through cuda_shim_launch; `gemm` steps run gemm_ref.
 *              The repository root (for those two files) is $UEAJ_ROOT,
 *              else the directory above the running executable (build/ueajc
 *              -> .) or two above.  The .so is cached in the compile cache
 *              under a hash of the source, the kernels, the shim and the
 *              flags.  "Device memory" is host memory owned by the executor.
 *
 * Memory: the executor owns every tensor's storage (device or host; a temp
 * that no step reads or writes gets none), sized
 * by the run-time dims of the current run and reallocated when they change
 * (then parameters are uploaded again).  Before a device allocation the
 * free memory is checked: "the model needs X GiB (...), the device has Y GiB free".
 *
 * No global state; errors come back as messages, nothing exits.
 */
#ifndef UEAJ_CUDA_EXEC_H
#define UEAJ_CUDA_EXEC_H

#include <stddef.h>
#include <stdint.h>

#include "cuda_plan.h"

typedef struct CudaExec CudaExec;

/* backend: "cuda" or "harness".  cu_src: the generated CUDA source;
 * plan_text: its plan; name: the program's name in messages ("llama.cu");
 * cache_dir: NULL for the default compile cache.  Returns NULL with a
 * one-line reason in err (for "cuda": cuda_select's line when there is no
 * usable GPU). */
CudaExec *cuda_exec_open(const char *backend, const char *cu_src, const char *plan_text, const char *name,
                         const char *cache_dir, char *err, size_t errlen);
/* The same from a cubin that `ueajc FILE.ue -o OUT.cubin` wrote (`path`
 * names it in messages): its plan comes from the cubin's ueaj_plan.
 * "cuda" loads the cubin itself once its architecture (ELF e_flags) is
 * checked against the device's: "x.cubin was built for sm_90, but CUDA
 * device 0 (...) is sm_80: ...".  "harness" runs the CUDA source the cubin
 * carries (ueaj_source).  cubin is not kept after the call. */
CudaExec *cuda_exec_open_cubin(const char *backend, const void *cubin, size_t size, const char *path,
                               const char *cache_dir, char *err, size_t errlen);
const CudaPlan *cuda_exec_plan(const CudaExec *x);
/* One line describing the backend: "using CUDA device 0: ..." or
 * "CUDA-on-CPU harness (NAME.so, cache hit)". */
const char *cuda_exec_describe(const CudaExec *x);

/* One forward pass.  host_bufs has one entry per plan tensor, each in the
 * plan's dtype, row-major; inputs and state are uploaded every run, params
 * when upload_params is set (or the storage was reallocated); temps may be
 * NULL.  After the steps, outputs and state are copied back into their
 * host buffers.  dyn: the plan's run-time dims.  0, or -1 with a message. */
int cuda_exec_run(CudaExec *x, void *const *host_bufs, const int64_t *dyn, int upload_params, char *err,
                  size_t errlen);
/* Runs the steps alone (no copies) `repeat` times on the storage of the
 * last cuda_exec_run (same dyn), timing each run (CUDA events on the GPU,
 * the monotonic clock in the harness); *median_ms gets the median.  */
int cuda_exec_time(CudaExec *x, int repeat, double *median_ms, char *err, size_t errlen);
/* Resident use (the generative engine): the KV cache stays on the device.
 * cuda_exec_reserve() allocates (zeroed) storage once for the largest
 * run-time dims; from then on the storage never moves and a run may use
 * smaller dims, every tensor then using a prefix of its storage (so a dim
 * that shrinks must be a tensor's leading axis).  cuda_exec_upload/download
 * copy the first `bytes` of tensor i (plan order) in or out;
 * cuda_exec_steps() runs the steps with dims dyn and waits for them, with
 * no copies at all; ms (may be NULL) gets their time (CUDA events on the
 * GPU, the monotonic clock in the harness) (state stays where the steps left it).  cuda_exec_run
 * and cuda_exec_time keep working on reserved storage.  0, or -1 with a
 * message. */
int cuda_exec_reserve(CudaExec *x, const int64_t *max_dyn, char *err, size_t errlen);
int cuda_exec_upload(CudaExec *x, int i, const void *src, size_t bytes, char *err, size_t errlen);
int cuda_exec_download(CudaExec *x, int i, void *dst, size_t bytes, char *err, size_t errlen);
int cuda_exec_steps(CudaExec *x, const int64_t *dyn, double *ms, char *err, size_t errlen);
/* Total bytes of the param tensors (for bandwidth figures). */
size_t cuda_exec_param_bytes(const CudaExec *x);
/* The device's name ("" for the harness). */
const char *cuda_exec_device_name(const CudaExec *x);
void cuda_exec_close(CudaExec *x);

#endif
