/* fake_driver.h - a pretend libcuda for the backend-selection tests.
 *
 * Each tests/cuda_fakes/NAME.c sets a few FAKE_* macros and includes this
 * file; the Makefile builds it into $(BUILD)/fakes/NAME.so (-shared -fPIC)
 * and test_cuda_api.c points $UEAJ_LIBCUDA at it.  The defaults describe a
 * working H200 whose "device memory" is host memory, so the device paths
 * (context, allocation, copies, events) can run without a GPU.  The
 * functions carry the versioned names that libcuda exports.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cuda_api.h"

#ifndef FAKE_RESULT                 /* every call returns this when set */
#define FAKE_RESULT 0
#endif
#ifndef FAKE_INIT_RESULT
#define FAKE_INIT_RESULT FAKE_RESULT
#endif
#ifndef FAKE_DRIVER_VERSION
#define FAKE_DRIVER_VERSION 13000
#endif
#ifndef FAKE_DEVICE_COUNT
#define FAKE_DEVICE_COUNT 1
#endif
#ifndef FAKE_NAME
#define FAKE_NAME "NVIDIA H200"
#endif
#ifndef FAKE_CC
#define FAKE_CC 90
#endif
#ifndef FAKE_SMS
#define FAKE_SMS 132
#endif
#ifndef FAKE_MEM
#define FAKE_MEM 150754820096ull
#endif

#define R FAKE_RESULT
#define EXPORT __attribute__((visibility("default")))
/* -Wmissing-prototypes: these are the library's interface, declared by libcuda's users */
#pragma GCC diagnostic ignored "-Wmissing-prototypes"

static int ctx_token;
static int fake_capturing, fake_direct, fake_captures, fake_captured, fake_graph_launches; /* see cuGraphLaunch */
static int graph_token;

EXPORT CUresult cuInit(unsigned int flags) { (void)flags; return FAKE_INIT_RESULT; }
EXPORT CUresult cuDriverGetVersion(int *v) { if (R) return R; *v = FAKE_DRIVER_VERSION; return 0; }
EXPORT CUresult cuDeviceGetCount(int *n) { if (R) return R; *n = FAKE_DEVICE_COUNT; return 0; }
EXPORT CUresult cuDeviceGet(CUdevice *d, int ordinal)
{ if (R) return R; if (ordinal >= FAKE_DEVICE_COUNT) return 101; *d = ordinal; return 0; }
EXPORT CUresult cuDeviceGetName(char *name, int len, CUdevice d)
{ (void)d; if (R) return R; strncpy(name, FAKE_NAME, (size_t)len); if (len) name[len - 1] = 0; return 0; }
EXPORT CUresult cuDeviceGetAttribute(int *v, int attr, CUdevice d)
{
    (void)d;
    if (R) return R;
    switch (attr) {
    case 16: *v = FAKE_SMS; return 0;
    case 75: *v = FAKE_CC / 10; return 0;
    case 76: *v = FAKE_CC % 10; return 0;
    default: return 1;
    }
}
EXPORT CUresult cuDeviceTotalMem_v2(size_t *b, CUdevice d) { (void)d; if (R) return R; *b = (size_t)FAKE_MEM; return 0; }
EXPORT CUresult cuDevicePrimaryCtxRetain(CUcontext *c, CUdevice d) { (void)d; if (R) return R; *c = (CUcontext)&ctx_token; return 0; }
EXPORT CUresult cuDevicePrimaryCtxRelease_v2(CUdevice d) { (void)d; return R; }
EXPORT CUresult cuCtxSetCurrent(CUcontext c) { (void)c; return R; }
EXPORT CUresult cuCtxSynchronize(void) { return R; }
EXPORT CUresult cuStreamCreate(CUstream *s, unsigned int f) { (void)f; if (R) return R; *s = (CUstream)&ctx_token; return 0; }
EXPORT CUresult cuStreamDestroy_v2(CUstream s) { (void)s; return R; }
EXPORT CUresult cuStreamSynchronize(CUstream s) { (void)s; return R; }
EXPORT CUresult cuMemAlloc_v2(CUdeviceptr *p, size_t n)
{ if (R) return R; void *m = malloc(n ? n : 1); if (!m) return 2; *p = (CUdeviceptr)(size_t)m; return 0; }
EXPORT CUresult cuMemFree_v2(CUdeviceptr p) { if (R) return R; free((void *)(size_t)p); return 0; }
EXPORT CUresult cuMemcpyHtoD_v2(CUdeviceptr d, const void *s, size_t n) { if (R) return R; memcpy((void *)(size_t)d, s, n); return 0; }
EXPORT CUresult cuMemcpyDtoH_v2(void *d, CUdeviceptr s, size_t n) { if (R) return R; memcpy(d, (void *)(size_t)s, n); return 0; }
EXPORT CUresult cuMemcpyHtoDAsync_v2(CUdeviceptr d, const void *s, size_t n, CUstream st)
{ (void)st; return cuMemcpyHtoD_v2(d, s, n); }
EXPORT CUresult cuMemsetD8_v2(CUdeviceptr d, unsigned char v, size_t n) { if (R) return R; memset((void *)(size_t)d, v, n); return 0; }
EXPORT CUresult cuMemGetInfo_v2(size_t *f, size_t *t) { if (R) return R; *f = *t = (size_t)FAKE_MEM; return 0; }
#ifdef FAKE_MODULES                 /* modules load, kernels are found, launches do nothing */
EXPORT CUresult cuModuleLoadData(CUmodule *m, const void *img) { (void)img; if (R) return R; *m = (CUmodule)&ctx_token; return 0; }
#define FAKE_MOD_RESULT 0
#else
EXPORT CUresult cuModuleLoadData(CUmodule *m, const void *img) { (void)m; (void)img; return R ? R : 200; }
#define FAKE_MOD_RESULT 400
#endif
EXPORT CUresult cuModuleLoadDataEx(CUmodule *m, const void *img, unsigned int n, int *o, void **v)
{ (void)m; (void)img; (void)n; (void)o; (void)v; return R ? R : 200; }
EXPORT CUresult cuModuleUnload(CUmodule m) { (void)m; return R ? R : FAKE_MOD_RESULT; }
EXPORT CUresult cuModuleGetFunction(CUfunction *f, CUmodule m, const char *n)
{ (void)m; (void)n; if (R || FAKE_MOD_RESULT) return R ? R : FAKE_MOD_RESULT; *f = (CUfunction)&ctx_token; return 0; }
EXPORT CUresult cuModuleGetGlobal_v2(CUdeviceptr *p, size_t *b, CUmodule m, const char *n)
{ (void)p; (void)b; (void)m; (void)n; return R ? R : 400; }
#ifndef FAKE_NO_LAUNCH
EXPORT CUresult cuLaunchKernel(CUfunction f, unsigned int gx, unsigned int gy, unsigned int gz, unsigned int bx,
                               unsigned int by, unsigned int bz, unsigned int smem, CUstream s, void **p, void **e)
{
    (void)f; (void)gx; (void)gy; (void)gz; (void)bx; (void)by; (void)bz; (void)smem; (void)s; (void)p; (void)e;
    if (R || FAKE_MOD_RESULT) return R ? R : FAKE_MOD_RESULT;
    if (fake_capturing) fake_captured++;
    else fake_direct++;
    return 0;
}
#endif
EXPORT CUresult cuFuncGetAttribute(int *v, int a, CUfunction f) { (void)v; (void)a; (void)f; return R ? R : 400; }
EXPORT CUresult cuEventCreate(CUevent *e, unsigned int f) { (void)f; if (R) return R; *e = (CUevent)&ctx_token; return 0; }
EXPORT CUresult cuEventRecord(CUevent e, CUstream s) { (void)e; (void)s; return R; }
EXPORT CUresult cuEventElapsedTime_v2(float *ms, CUevent a, CUevent b) { (void)a; (void)b; if (R) return R; *ms = 1.5f; return 0; }
EXPORT CUresult cuEventDestroy_v2(CUevent e) { (void)e; return R; }
EXPORT CUresult cuEventSynchronize(CUevent e) { (void)e; return R; }

/* Stream capture and graphs: a capture records how many kernels were
 * launched into it; with $FAKE_CUDA_REPORT set the library prints, at
 * exit, "fake libcuda: D direct launches, C captures of K kernels, G graph
 * launches" (tests/engine_device_check.sh reads it). */
__attribute__((destructor)) static void fake_report(void)
{
    if (getenv("FAKE_CUDA_REPORT"))
        fprintf(stderr, "fake libcuda: %d direct launches, %d captures of %d kernels, %d graph launches\n", fake_direct,
                fake_captures, fake_captured, fake_graph_launches);
}
EXPORT CUresult cuStreamBeginCapture_v2(CUstream s, int mode)
{
    (void)s; (void)mode;
    if (R) return R;
#ifdef FAKE_CAPTURE_FAILS
    return 801;                     /* CUDA_ERROR_NOT_SUPPORTED */
#endif
    if (fake_capturing) return 900;
    fake_capturing = 1;
    return 0;
}
EXPORT CUresult cuStreamEndCapture(CUstream s, CUgraph *g)
{ (void)s; if (R) return R; if (!fake_capturing) return 400; fake_capturing = 0; fake_captures++; *g = (CUgraph)&graph_token; return 0; }
EXPORT CUresult cuGraphInstantiateWithFlags(CUgraphExec *e, CUgraph g, unsigned long long f)
{ (void)g; (void)f; if (R) return R; *e = (CUgraphExec)&graph_token; return 0; }
EXPORT CUresult cuGraphLaunch(CUgraphExec e, CUstream s) { (void)e; (void)s; if (R) return R; fake_graph_launches++; return 0; }
EXPORT CUresult cuGraphExecDestroy(CUgraphExec e) { (void)e; return R; }
EXPORT CUresult cuGraphDestroy(CUgraph g) { (void)g; return R; }
