/* cuda_api.c - libcuda through dlopen, error names, backend selection.
 *
 * Why dlopen: a binary linked with -lcuda does not even start on a machine
 * without the driver (FACTS.md), and ueajc must run everywhere, on the CPU
 * when it has to.  The library is opened with RTLD_NODELETE: a real driver
 * starts threads and registers exit handlers, so it must never be unmapped
 * by a dlclose while those may still run; cuda_api_close only drops our
 * reference.  Each symbol is looked up by the versioned name cuda.h would
 * have bound (cuMemAlloc -> cuMemAlloc_v2, ...), with a fallback name where
 * old drivers only have the plain one.
 *
 * Backend selection walks the chain a user would check by hand and stops
 * at the first failure with a one-line explanation:
 *
 *   no libcuda.so.1 (dlopen: <dlerror>)
 *   libcuda is the toolkit's stub (cuInit: CUDA_ERROR_STUB_LIBRARY)
 *   no CUDA device (cuInit: CUDA_ERROR_NO_DEVICE)
 *   the CUDA driver does not start (cuInit: <error>)
 *   driver too old (CUDA 12.2, need 13.0 for PTX 9.0)
 *   libcuda.so.1 lacks cuFoo_v2 (driver CUDA 13.0)
 *   no CUDA device (cuDeviceGetCount: 0)
 *   CUDA device 0 does not answer (cuDeviceGetAttribute: <error>)
 *   CUDA device 0: <name> is sm_70, need sm_75 or newer
 *   using CUDA device 0: NVIDIA H200 (sm_90, 132 SMs, 140 GiB, driver 13.0)
 *
 * ("auto" turns each failure into the CPU backend with that line; "cuda"
 * makes it an error.)  The tests drive every line with fake libcuda
 * libraries (tests/cuda_fakes/) and the toolkit's stub.
 */
#include "cuda_api.h"

#include <dlfcn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct ErrName { int code; const char *name; } ErrName;

/* CUresult values of cuda.h (CUDA 13.0), in its order. */
static const ErrName err_names[] = {
    { 0, "CUDA_SUCCESS" },
    { 1, "CUDA_ERROR_INVALID_VALUE" },
    { 2, "CUDA_ERROR_OUT_OF_MEMORY" },
    { 3, "CUDA_ERROR_NOT_INITIALIZED" },
    { 4, "CUDA_ERROR_DEINITIALIZED" },
    { 5, "CUDA_ERROR_PROFILER_DISABLED" },
    { 6, "CUDA_ERROR_PROFILER_NOT_INITIALIZED" },
    { 7, "CUDA_ERROR_PROFILER_ALREADY_STARTED" },
    { 8, "CUDA_ERROR_PROFILER_ALREADY_STOPPED" },
    { 34, "CUDA_ERROR_STUB_LIBRARY" },
    { 36, "CUDA_ERROR_CALL_REQUIRES_NEWER_DRIVER" },
    { 46, "CUDA_ERROR_DEVICE_UNAVAILABLE" },
    { 100, "CUDA_ERROR_NO_DEVICE" },
    { 101, "CUDA_ERROR_INVALID_DEVICE" },
    { 102, "CUDA_ERROR_DEVICE_NOT_LICENSED" },
    { 200, "CUDA_ERROR_INVALID_IMAGE" },
    { 201, "CUDA_ERROR_INVALID_CONTEXT" },
    { 202, "CUDA_ERROR_CONTEXT_ALREADY_CURRENT" },
    { 205, "CUDA_ERROR_MAP_FAILED" },
    { 206, "CUDA_ERROR_UNMAP_FAILED" },
    { 207, "CUDA_ERROR_ARRAY_IS_MAPPED" },
    { 208, "CUDA_ERROR_ALREADY_MAPPED" },
    { 209, "CUDA_ERROR_NO_BINARY_FOR_GPU" },
    { 210, "CUDA_ERROR_ALREADY_ACQUIRED" },
    { 211, "CUDA_ERROR_NOT_MAPPED" },
    { 212, "CUDA_ERROR_NOT_MAPPED_AS_ARRAY" },
    { 213, "CUDA_ERROR_NOT_MAPPED_AS_POINTER" },
    { 214, "CUDA_ERROR_ECC_UNCORRECTABLE" },
    { 215, "CUDA_ERROR_UNSUPPORTED_LIMIT" },
    { 216, "CUDA_ERROR_CONTEXT_ALREADY_IN_USE" },
    { 217, "CUDA_ERROR_PEER_ACCESS_UNSUPPORTED" },
    { 218, "CUDA_ERROR_INVALID_PTX" },
    { 219, "CUDA_ERROR_INVALID_GRAPHICS_CONTEXT" },
    { 220, "CUDA_ERROR_NVLINK_UNCORRECTABLE" },
    { 221, "CUDA_ERROR_JIT_COMPILER_NOT_FOUND" },
    { 222, "CUDA_ERROR_UNSUPPORTED_PTX_VERSION" },
    { 223, "CUDA_ERROR_JIT_COMPILATION_DISABLED" },
    { 224, "CUDA_ERROR_UNSUPPORTED_EXEC_AFFINITY" },
    { 225, "CUDA_ERROR_UNSUPPORTED_DEVSIDE_SYNC" },
    { 226, "CUDA_ERROR_CONTAINED" },
    { 300, "CUDA_ERROR_INVALID_SOURCE" },
    { 301, "CUDA_ERROR_FILE_NOT_FOUND" },
    { 302, "CUDA_ERROR_SHARED_OBJECT_SYMBOL_NOT_FOUND" },
    { 303, "CUDA_ERROR_SHARED_OBJECT_INIT_FAILED" },
    { 304, "CUDA_ERROR_OPERATING_SYSTEM" },
    { 400, "CUDA_ERROR_INVALID_HANDLE" },
    { 401, "CUDA_ERROR_ILLEGAL_STATE" },
    { 402, "CUDA_ERROR_LOSSY_QUERY" },
    { 500, "CUDA_ERROR_NOT_FOUND" },
    { 600, "CUDA_ERROR_NOT_READY" },
    { 700, "CUDA_ERROR_ILLEGAL_ADDRESS" },
    { 701, "CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES" },
    { 702, "CUDA_ERROR_LAUNCH_TIMEOUT" },
    { 703, "CUDA_ERROR_LAUNCH_INCOMPATIBLE_TEXTURING" },
    { 704, "CUDA_ERROR_PEER_ACCESS_ALREADY_ENABLED" },
    { 705, "CUDA_ERROR_PEER_ACCESS_NOT_ENABLED" },
    { 708, "CUDA_ERROR_PRIMARY_CONTEXT_ACTIVE" },
    { 709, "CUDA_ERROR_CONTEXT_IS_DESTROYED" },
    { 710, "CUDA_ERROR_ASSERT" },
    { 711, "CUDA_ERROR_TOO_MANY_PEERS" },
    { 712, "CUDA_ERROR_HOST_MEMORY_ALREADY_REGISTERED" },
    { 713, "CUDA_ERROR_HOST_MEMORY_NOT_REGISTERED" },
    { 714, "CUDA_ERROR_HARDWARE_STACK_ERROR" },
    { 715, "CUDA_ERROR_ILLEGAL_INSTRUCTION" },
    { 716, "CUDA_ERROR_MISALIGNED_ADDRESS" },
    { 717, "CUDA_ERROR_INVALID_ADDRESS_SPACE" },
    { 718, "CUDA_ERROR_INVALID_PC" },
    { 719, "CUDA_ERROR_LAUNCH_FAILED" },
    { 720, "CUDA_ERROR_COOPERATIVE_LAUNCH_TOO_LARGE" },
    { 721, "CUDA_ERROR_TENSOR_MEMORY_LEAK" },
    { 800, "CUDA_ERROR_NOT_PERMITTED" },
    { 801, "CUDA_ERROR_NOT_SUPPORTED" },
    { 802, "CUDA_ERROR_SYSTEM_NOT_READY" },
    { 803, "CUDA_ERROR_SYSTEM_DRIVER_MISMATCH" },
    { 804, "CUDA_ERROR_COMPAT_NOT_SUPPORTED_ON_DEVICE" },
    { 805, "CUDA_ERROR_MPS_CONNECTION_FAILED" },
    { 806, "CUDA_ERROR_MPS_RPC_FAILURE" },
    { 807, "CUDA_ERROR_MPS_SERVER_NOT_READY" },
    { 808, "CUDA_ERROR_MPS_MAX_CLIENTS_REACHED" },
    { 809, "CUDA_ERROR_MPS_MAX_CONNECTIONS_REACHED" },
    { 810, "CUDA_ERROR_MPS_CLIENT_TERMINATED" },
    { 811, "CUDA_ERROR_CDP_NOT_SUPPORTED" },
    { 812, "CUDA_ERROR_CDP_VERSION_MISMATCH" },
    { 900, "CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED" },
    { 901, "CUDA_ERROR_STREAM_CAPTURE_INVALIDATED" },
    { 902, "CUDA_ERROR_STREAM_CAPTURE_MERGE" },
    { 903, "CUDA_ERROR_STREAM_CAPTURE_UNMATCHED" },
    { 904, "CUDA_ERROR_STREAM_CAPTURE_UNJOINED" },
    { 905, "CUDA_ERROR_STREAM_CAPTURE_ISOLATION" },
    { 906, "CUDA_ERROR_STREAM_CAPTURE_IMPLICIT" },
    { 907, "CUDA_ERROR_CAPTURED_EVENT" },
    { 908, "CUDA_ERROR_STREAM_CAPTURE_WRONG_THREAD" },
    { 909, "CUDA_ERROR_TIMEOUT" },
    { 910, "CUDA_ERROR_GRAPH_EXEC_UPDATE_FAILURE" },
    { 911, "CUDA_ERROR_EXTERNAL_DEVICE" },
    { 912, "CUDA_ERROR_INVALID_CLUSTER_SIZE" },
    { 913, "CUDA_ERROR_FUNCTION_NOT_LOADED" },
    { 914, "CUDA_ERROR_INVALID_RESOURCE_TYPE" },
    { 915, "CUDA_ERROR_INVALID_RESOURCE_CONFIGURATION" },
    { 916, "CUDA_ERROR_KEY_ROTATION" },
    { 999, "CUDA_ERROR_UNKNOWN" },
};

const char *cuda_result_name(CUresult r)
{
    for (size_t i = 0; i < sizeof err_names / sizeof err_names[0]; i++)
        if (err_names[i].code == r) return err_names[i].name;
    return NULL;
}

static void msg(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void msg(char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || !errlen) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

/* "what: NAME" or "what: CUresult N" */
static void rname(char *buf, size_t n, CUresult r)
{
    const char *s = cuda_result_name(r);
    if (s) snprintf(buf, n, "%s", s);
    else snprintf(buf, n, "CUresult %d", r);
}

int cuda_check(CUresult r, const char *what, char *err, size_t errlen)
{
    if (r == 0) return 0;
    char name[64];
    rname(name, sizeof name, r);
    msg(err, errlen, "%s: %s", what, name);
    return -1;
}

int cuda_api_open(CudaApi *api, const char *path, char *err, size_t errlen)
{
    memset(api, 0, sizeof *api);
    if (!path) path = getenv("UEAJ_LIBCUDA");
    if (!path || !*path) path = "libcuda.so.1";
    snprintf(api->path, sizeof api->path, "%s", path);
    dlerror();
    api->lib = dlopen(path, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
    if (!api->lib) {
        const char *e = dlerror();
        msg(err, errlen, "no libcuda.so.1 (dlopen: %s)", e ? e : "failed");
        return -1;
    }
    /* dlsym returns void *; POSIX guarantees it converts to a function pointer */
#define X(field, sym, alt, params) \
    *(void **)&api->field = dlsym(api->lib, sym); \
    if (!api->field && alt) *(void **)&api->field = dlsym(api->lib, alt ? alt : sym); \
    if (!api->field && !api->missing) api->missing = sym;
    CUDA_API_FUNCS(X)
#undef X
    return 0;
}

void cuda_api_close(CudaApi *api)
{
    if (api->lib) dlclose(api->lib);      /* RTLD_NODELETE: stays mapped */
    memset(api, 0, sizeof *api);
}

/* The CPU backend (why is written), after releasing whatever was opened;
 * -1 when CUDA was required. */
static int fall_back(int want_cuda, CudaDevice *out)
{
    cuda_api_close(&out->api);
    memset(out, 0, sizeof *out);
    out->backend = CUDA_BACKEND_CPU;
    return want_cuda ? -1 : CUDA_BACKEND_CPU;
}

int cuda_select(const char *want, CudaDevice *out, char *why, size_t whylen)
{
    memset(out, 0, sizeof *out);
    out->backend = CUDA_BACKEND_CPU;
    if (!want) want = "auto";
    if (strcmp(want, "cpu") == 0) {
        msg(why, whylen, "the CPU backend was asked for");
        return CUDA_BACKEND_CPU;
    }
    int want_cuda = strcmp(want, "cuda") == 0;
    if (!want_cuda && strcmp(want, "auto") != 0) {
        msg(why, whylen, "unknown backend '%.40s' (auto, cuda or cpu)", want);
        return -1;
    }
    CudaApi *api = &out->api;
    if (cuda_api_open(api, NULL, why, whylen)) return fall_back(want_cuda, out);
    if (!api->cuInit || !api->cuDriverGetVersion) {
        msg(why, whylen, "%s is not a CUDA driver (no %s)", api->path, api->cuInit ? "cuDriverGetVersion" : "cuInit");
        return fall_back(want_cuda, out);
    }
    char name[64];
    CUresult r = api->cuInit(0);
    if (r) {
        rname(name, sizeof name, r);
        if (r == CUDA_ERROR_STUB_LIBRARY_) msg(why, whylen, "libcuda is the toolkit's stub (cuInit: %s)", name);
        else if (r == CUDA_ERROR_NO_DEVICE_) msg(why, whylen, "no CUDA device (cuInit: %s)", name);
        else msg(why, whylen, "the CUDA driver does not start (cuInit: %s)", name);
        return fall_back(want_cuda, out);
    }
    int v = 0;
    if ((r = api->cuDriverGetVersion(&v))) {
        rname(name, sizeof name, r);
        msg(why, whylen, "the CUDA driver does not start (cuDriverGetVersion: %s)", name);
        return fall_back(want_cuda, out);
    }
    out->driver_version = v;
    if (v < CUDA_MIN_DRIVER) {
        msg(why, whylen, "driver too old (CUDA %d.%d, need %d.%d for PTX 9.0)", v / 1000, v % 1000 / 10,
            CUDA_MIN_DRIVER / 1000, CUDA_MIN_DRIVER % 1000 / 10);
        return fall_back(want_cuda, out);
    }
    if (api->missing) {
        msg(why, whylen, "libcuda.so.1 lacks %s (driver CUDA %d.%d)", api->missing, v / 1000, v % 1000 / 10);
        return fall_back(want_cuda, out);
    }
    int count = 0;
    if ((r = api->cuDeviceGetCount(&count))) {
        rname(name, sizeof name, r);
        msg(why, whylen, "no CUDA device (cuDeviceGetCount: %s)", name);
        return fall_back(want_cuda, out);
    }
    if (count <= 0) {
        msg(why, whylen, "no CUDA device (cuDeviceGetCount: %d)", count);
        return fall_back(want_cuda, out);
    }
    out->ordinal = 0;
    const char *what = "cuDeviceGet";
    r = api->cuDeviceGet(&out->dev, out->ordinal);
    if (!r) what = "cuDeviceGetName", r = api->cuDeviceGetName(out->name, (int)sizeof out->name, out->dev);
    struct { int attr, *dst; } attrs[] = {
        { CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR_, &out->cc_major },
        { CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR_, &out->cc_minor },
        { CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT_, &out->sm_count } };
    for (int i = 0; i < 3 && !r; i++)
        what = "cuDeviceGetAttribute", r = api->cuDeviceGetAttribute(attrs[i].dst, attrs[i].attr, out->dev);
    if (!r) what = "cuDeviceTotalMem", r = api->cuDeviceTotalMem(&out->total_mem, out->dev);
    if (r) {
        rname(name, sizeof name, r);
        msg(why, whylen, "CUDA device %d does not answer (%s: %s)", out->ordinal, what, name);
        return fall_back(want_cuda, out);
    }
    out->name[sizeof out->name - 1] = 0;
    if (out->cc_major * 10 + out->cc_minor < CUDA_MIN_CC) {
        msg(why, whylen, "CUDA device %d: %s is sm_%d%d, need sm_%d or newer", out->ordinal, out->name,
            out->cc_major, out->cc_minor, CUDA_MIN_CC);
        return fall_back(want_cuda, out);
    }
    msg(why, whylen, "using CUDA device %d: %s (sm_%d%d, %d SMs, %.0f GiB, driver %d.%d)", out->ordinal, out->name,
        out->cc_major, out->cc_minor, out->sm_count, (double)out->total_mem / (1024.0 * 1024 * 1024), v / 1000,
        v % 1000 / 10);
    out->backend = CUDA_BACKEND_CUDA;
    return CUDA_BACKEND_CUDA;
}

int cuda_device_open(CudaDevice *d, char *err, size_t errlen)
{
    if (d->backend != CUDA_BACKEND_CUDA || !d->api.lib) {
        msg(err, errlen, "no CUDA device was selected");
        return -1;
    }
    if (d->ctx) return 0;
    CUcontext ctx = NULL;
    if (cuda_check(d->api.cuDevicePrimaryCtxRetain(&ctx, d->dev), "cuDevicePrimaryCtxRetain", err, errlen)) return -1;
    d->ctx = ctx;                           /* retained: cuda_device_close releases it */
    if (cuda_check(d->api.cuCtxSetCurrent(ctx), "cuCtxSetCurrent", err, errlen)) return -1;
    return 0;
}

void cuda_device_close(CudaDevice *d)
{
    if (d->ctx && d->api.cuDevicePrimaryCtxRelease) {
        if (d->api.cuCtxSetCurrent) d->api.cuCtxSetCurrent(NULL);
        d->api.cuDevicePrimaryCtxRelease(d->dev);
    }
    cuda_api_close(&d->api);
    memset(d, 0, sizeof *d);
}

const char *cuda_auto_device(char *why, size_t whylen)
{
    CudaDevice d;
    int b = cuda_select("auto", &d, why, whylen);
    cuda_device_close(&d);
    return b == CUDA_BACKEND_CUDA ? "cuda" : "cpu";
}
