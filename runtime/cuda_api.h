/* cuda_api.h - the CUDA driver API through dlopen, and backend selection.
 *
 * ueajc never links against CUDA: one binary must run (on the CPU) on
 * machines with no GPU, no driver, or only the toolkit's stub libcuda.  So
 * libcuda.so.1 is opened at run time ($UEAJ_LIBCUDA overrides the path, for
 * tests and unusual installs) and the driver functions it needs are looked
 * up by their versioned symbol names (cuda.h maps cuMemAlloc to
 * cuMemAlloc_v2 and so on; dlsym sees only the real names) into a CudaApi
 * table owned by the caller.  No process-wide state: two tables may be open
 * at once (tests open different fake drivers one after another).
 *
 * The few driver types are declared here, not taken from cuda.h, so the
 * build needs no toolkit; they match cuda.h of CUDA 12/13 on 64-bit Linux
 * (handles are opaque pointers, CUdeviceptr is a 64-bit integer, CUresult
 * and the attribute enums are ints); the enum constants end in '_' so a
 * file may include cuda.h as well.  The error names are our own table
 * (cuGetErrorName itself fails through the stub).
 *
 * cuda_select() decides between the CUDA and the CPU backend and explains
 * the decision in one line (see cuda_api.c for the exact messages).
 */
#ifndef UEAJ_CUDA_API_H
#define UEAJ_CUDA_API_H

#include <stddef.h>

typedef int CUresult;                         /* 0 = CUDA_SUCCESS */
typedef int CUdevice;
typedef unsigned long long CUdeviceptr;
typedef struct CUctx_st *CUcontext;
typedef struct CUmod_st *CUmodule;
typedef struct CUfunc_st *CUfunction;
typedef struct CUstream_st *CUstream;
typedef struct CUevent_st *CUevent;
typedef struct CUgraph_st *CUgraph;
typedef struct CUgraphExec_st *CUgraphExec;

enum {                                        /* the CUresult values we test for */
    CUDA_SUCCESS_ = 0,
    CUDA_ERROR_STUB_LIBRARY_ = 34,
    CUDA_ERROR_NO_DEVICE_ = 100,
};
enum {                                        /* CUdevice_attribute values used here */
    CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT_ = 16,
    CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR_ = 75,
    CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR_ = 76,
};
enum {                                        /* CUstreamCaptureMode */
    CU_STREAM_CAPTURE_MODE_THREAD_LOCAL_ = 1,
};
enum {                                        /* CUfunction_attribute values */
    CU_FUNC_ATTRIBUTE_MAX_THREADS_PER_BLOCK_ = 0,
    CU_FUNC_ATTRIBUTE_SHARED_SIZE_BYTES_ = 1,
    CU_FUNC_ATTRIBUTE_LOCAL_SIZE_BYTES_ = 3,
    CU_FUNC_ATTRIBUTE_NUM_REGS_ = 4,
};

/* X(field, symbol, fallback symbol or NULL, parameters).  The table fields
 * are named like the API (without the version suffix). */
#define CUDA_API_FUNCS(X) \
    X(cuInit, "cuInit", NULL, (unsigned int flags)) \
    X(cuDriverGetVersion, "cuDriverGetVersion", NULL, (int *version)) \
    X(cuDeviceGetCount, "cuDeviceGetCount", NULL, (int *count)) \
    X(cuDeviceGet, "cuDeviceGet", NULL, (CUdevice *dev, int ordinal)) \
    X(cuDeviceGetName, "cuDeviceGetName", NULL, (char *name, int len, CUdevice dev)) \
    X(cuDeviceGetAttribute, "cuDeviceGetAttribute", NULL, (int *value, int attr, CUdevice dev)) \
    X(cuDeviceTotalMem, "cuDeviceTotalMem_v2", NULL, (size_t *bytes, CUdevice dev)) \
    X(cuDevicePrimaryCtxRetain, "cuDevicePrimaryCtxRetain", NULL, (CUcontext *ctx, CUdevice dev)) \
    X(cuDevicePrimaryCtxRelease, "cuDevicePrimaryCtxRelease_v2", NULL, (CUdevice dev)) \
    X(cuCtxSetCurrent, "cuCtxSetCurrent", NULL, (CUcontext ctx)) \
    X(cuCtxSynchronize, "cuCtxSynchronize", NULL, (void)) \
    X(cuStreamCreate, "cuStreamCreate", NULL, (CUstream *s, unsigned int flags)) \
    X(cuStreamDestroy, "cuStreamDestroy_v2", NULL, (CUstream s)) \
    X(cuStreamSynchronize, "cuStreamSynchronize", NULL, (CUstream s)) \
    X(cuMemAlloc, "cuMemAlloc_v2", NULL, (CUdeviceptr *p, size_t bytes)) \
    X(cuMemFree, "cuMemFree_v2", NULL, (CUdeviceptr p)) \
    X(cuMemcpyHtoD, "cuMemcpyHtoD_v2", NULL, (CUdeviceptr dst, const void *src, size_t bytes)) \
    X(cuMemcpyDtoH, "cuMemcpyDtoH_v2", NULL, (void *dst, CUdeviceptr src, size_t bytes)) \
    X(cuMemcpyHtoDAsync, "cuMemcpyHtoDAsync_v2", NULL, (CUdeviceptr dst, const void *src, size_t bytes, CUstream s)) \
    X(cuMemsetD8, "cuMemsetD8_v2", NULL, (CUdeviceptr dst, unsigned char value, size_t n)) \
    X(cuMemGetInfo, "cuMemGetInfo_v2", NULL, (size_t *free_bytes, size_t *total_bytes)) \
    X(cuModuleLoadData, "cuModuleLoadData", NULL, (CUmodule *m, const void *image)) \
    X(cuModuleLoadDataEx, "cuModuleLoadDataEx", NULL, (CUmodule *m, const void *image, unsigned int nopts, int *opts, void **values)) \
    X(cuModuleUnload, "cuModuleUnload", NULL, (CUmodule m)) \
    X(cuModuleGetFunction, "cuModuleGetFunction", NULL, (CUfunction *f, CUmodule m, const char *name)) \
    X(cuModuleGetGlobal, "cuModuleGetGlobal_v2", NULL, (CUdeviceptr *p, size_t *bytes, CUmodule m, const char *name)) \
    X(cuLaunchKernel, "cuLaunchKernel", NULL, (CUfunction f, unsigned int gx, unsigned int gy, unsigned int gz, \
        unsigned int bx, unsigned int by, unsigned int bz, unsigned int smem, CUstream s, void **params, void **extra)) \
    X(cuFuncGetAttribute, "cuFuncGetAttribute", NULL, (int *value, int attr, CUfunction f)) \
    X(cuEventCreate, "cuEventCreate", NULL, (CUevent *e, unsigned int flags)) \
    X(cuEventRecord, "cuEventRecord", NULL, (CUevent e, CUstream s)) \
    X(cuEventElapsedTime, "cuEventElapsedTime_v2", "cuEventElapsedTime", (float *ms, CUevent start, CUevent end)) \
    X(cuEventDestroy, "cuEventDestroy_v2", NULL, (CUevent e)) \
    X(cuEventSynchronize, "cuEventSynchronize", NULL, (CUevent e)) \
    X(cuStreamBeginCapture, "cuStreamBeginCapture_v2", NULL, (CUstream s, int mode)) \
    X(cuStreamEndCapture, "cuStreamEndCapture", NULL, (CUstream s, CUgraph *g)) \
    X(cuGraphInstantiateWithFlags, "cuGraphInstantiateWithFlags", NULL, (CUgraphExec *e, CUgraph g, unsigned long long flags)) \
    X(cuGraphLaunch, "cuGraphLaunch", NULL, (CUgraphExec e, CUstream s)) \
    X(cuGraphExecDestroy, "cuGraphExecDestroy", NULL, (CUgraphExec e)) \
    X(cuGraphDestroy, "cuGraphDestroy", NULL, (CUgraph g))

typedef struct CudaApi {
    void *lib;                                /* dlopen handle; owned, closed by cuda_api_close */
    char  path[256];                          /* what was opened */
    const char *missing;                      /* first symbol not found (then the table is unusable), or NULL */
#define X(field, sym, alt, params) CUresult (*field) params;
    CUDA_API_FUNCS(X)
#undef X
} CudaApi;

/* Opens libcuda (path; NULL: $UEAJ_LIBCUDA, else "libcuda.so.1") and
 * fills the table.  Returns 0, or -1 with "no libcuda.so.1 (dlopen: ...)"
 * in err.  Missing symbols do not fail here (an old driver is reported as
 * such by cuda_select); they leave api->missing set. */
int  cuda_api_open(CudaApi *api, const char *path, char *err, size_t errlen);
void cuda_api_close(CudaApi *api);

/* "CUDA_ERROR_OUT_OF_MEMORY", ... from our own table; NULL for a number
 * that is not in it. */
const char *cuda_result_name(CUresult r);
/* Writes "what: NAME" into err (NAME from cuda_result_name, or "CUresult N")
 * when r != 0; returns 0 for success, -1 otherwise. */
int cuda_check(CUresult r, const char *what, char *err, size_t errlen);

typedef enum { CUDA_BACKEND_CPU = 0, CUDA_BACKEND_CUDA = 1 } CudaBackend;

/* The chosen device.  api and ctx are owned: cuda_device_close releases
 * them.  For the CPU backend every field but backend is zero. */
typedef struct CudaDevice {
    CudaBackend backend;
    CudaApi     api;
    int         ordinal;
    CUdevice    dev;
    char        name[128];
    int         cc_major, cc_minor, sm_count;
    size_t      total_mem;
    int         driver_version;               /* 13000 = CUDA 13.0 */
    CUcontext   ctx;                          /* primary context, after cuda_device_open */
} CudaDevice;

/* The minimum we run on: a CUDA-13 driver (PTX 9.0, which NVRTC 13 emits)
 * and compute capability 7.5 (NVRTC 13's oldest target). */
#define CUDA_MIN_DRIVER 13000
#define CUDA_MIN_CC     75

/* want: "auto", "cuda" or "cpu" (NULL = "auto").  Fills out and writes the
 * one-line reason into why; returns the backend chosen, or -1 when "cuda"
 * was asked for and cannot be had (or want is unknown): why says why.
 * With "auto" every CUDA problem falls back to the CPU with that line. */
int  cuda_select(const char *want, CudaDevice *out, char *why, size_t whylen);
/* Retains the device's primary context and makes it current on this
 * thread.  Returns 0, or -1 with a message. */
int  cuda_device_open(CudaDevice *d, char *err, size_t errlen);
/* Releases the context (if retained) and closes the library. */
void cuda_device_close(CudaDevice *d);
/* `--device auto`: "cuda" when cuda_select would use a GPU, else "cpu";
 * why gets cuda_select's one line, which the caller shows. */
const char *cuda_auto_device(char *why, size_t whylen);

#endif
