/* test_cuda_api.c - libcuda through dlopen and backend selection
 * (runtime/cuda_api.c), without a GPU.
 *
 * $UEAJ_LIBCUDA points cuda_select at: a file that does not exist, the
 * toolkit's stub libcuda.so (skipped with a note when absent), and the fake
 * drivers of tests/cuda_fakes/ built by the Makefile into BUILD/fakes/ (no
 * device, a CUDA 12.2 driver, every call failing, cuInit saying no device,
 * a Volta GPU, a driver without cuLaunchKernel, and a working "H200" whose
 * device memory is host memory).  Each case checks the exact one-line
 * reason, the backend chosen under "auto", and the error under "cuda".
 * The working fake also takes the device through cuda_device_open, an
 * allocation, copies both ways, a memset and cuda_device_close.
 */
#include <check.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cuda_api.h"

static const char *fake(const char *name)
{
    static char path[600];                /* test-only scratch */
    char dir[512];
    const char *ueajc = getenv("UEAJC");
    if (ueajc) {
        snprintf(dir, sizeof dir, "%s", ueajc);
        snprintf(path, sizeof path, "%s/fakes/%s.so", dirname(dir), name);
    } else
        snprintf(path, sizeof path, "build/fakes/%s.so", name);
    ck_assert_msg(access(path, R_OK) == 0, "%s is missing: run `make fakes`", path);
    return path;
}

/* selects with $UEAJ_LIBCUDA = lib under "auto" and "cuda"; checks the
 * line and the backends */
static void expect(const char *lib, int auto_backend, const char *line)
{
    char why[512];
    CudaDevice d;
    setenv("UEAJ_LIBCUDA", lib, 1);
    int b = cuda_select("auto", &d, why, sizeof why);
    ck_assert_int_eq(b, auto_backend);
    ck_assert_str_eq(why, line);
    ck_assert_int_eq(d.backend, auto_backend);
    cuda_device_close(&d);
    why[0] = 0;
    b = cuda_select("cuda", &d, why, sizeof why);
    ck_assert_int_eq(b, auto_backend == CUDA_BACKEND_CUDA ? CUDA_BACKEND_CUDA : -1);
    ck_assert_str_eq(why, line);
    cuda_device_close(&d);
    unsetenv("UEAJ_LIBCUDA");
}

START_TEST(test_no_library)
{
    expect("/nonexistent/libcuda.so.1", CUDA_BACKEND_CPU,
           "no libcuda.so.1 (dlopen: /nonexistent/libcuda.so.1: cannot open shared object file: "
           "No such file or directory)");
}
END_TEST

START_TEST(test_stub)
{
    const char *stub = "/usr/local/cuda/lib64/stubs/libcuda.so";
    if (access(stub, R_OK) != 0) {
        printf("test_cuda_api: %s absent, stub case skipped\n", stub);
        return;
    }
    expect(stub, CUDA_BACKEND_CPU, "libcuda is the toolkit's stub (cuInit: CUDA_ERROR_STUB_LIBRARY)");
}
END_TEST

START_TEST(test_fakes)
{
    expect(fake("nodev"), CUDA_BACKEND_CPU, "no CUDA device (cuDeviceGetCount: 0)");
    expect(fake("olddriver"), CUDA_BACKEND_CPU, "driver too old (CUDA 12.2, need 13.0 for PTX 9.0)");
    expect(fake("allfail"), CUDA_BACKEND_CPU, "the CUDA driver does not start (cuInit: CUDA_ERROR_UNKNOWN)");
    expect(fake("nodevinit"), CUDA_BACKEND_CPU, "no CUDA device (cuInit: CUDA_ERROR_NO_DEVICE)");
    expect(fake("oldgpu"), CUDA_BACKEND_CPU, "CUDA device 0: Tesla V100-SXM2-16GB is sm_70, need sm_75 or newer");
    expect(fake("nolaunch"), CUDA_BACKEND_CPU, "libcuda.so.1 lacks cuLaunchKernel (driver CUDA 13.0)");
    expect(fake("h200"), CUDA_BACKEND_CUDA,
           "using CUDA device 0: NVIDIA H200 (sm_90, 132 SMs, 140 GiB, driver 13.0)");
    /* not a driver at all: a library without cuInit */
    expect("libm.so.6", CUDA_BACKEND_CPU, "libm.so.6 is not a CUDA driver (no cuInit)");
}
END_TEST

START_TEST(test_cpu_and_bad_want)
{
    char why[256];
    CudaDevice d;
    setenv("UEAJ_LIBCUDA", "/nonexistent/x.so", 1);
    ck_assert_int_eq(cuda_select("cpu", &d, why, sizeof why), CUDA_BACKEND_CPU);
    ck_assert_str_eq(why, "the CPU backend was asked for");
    ck_assert_ptr_null(d.api.lib);
    ck_assert_int_eq(cuda_select("gpu", &d, why, sizeof why), -1);
    ck_assert_str_eq(why, "unknown backend 'gpu' (auto, cuda or cpu)");
    ck_assert_int_eq(cuda_select(NULL, &d, why, sizeof why), CUDA_BACKEND_CPU);   /* NULL = auto */
    ck_assert(strncmp(why, "no libcuda.so.1", 15) == 0);
    ck_assert_int_eq(cuda_device_open(&d, why, sizeof why), -1);
    ck_assert_str_eq(why, "no CUDA device was selected");
    unsetenv("UEAJ_LIBCUDA");
}
END_TEST

START_TEST(test_error_names)
{
    char err[128];
    ck_assert_str_eq(cuda_result_name(0), "CUDA_SUCCESS");
    ck_assert_str_eq(cuda_result_name(34), "CUDA_ERROR_STUB_LIBRARY");
    ck_assert_str_eq(cuda_result_name(700), "CUDA_ERROR_ILLEGAL_ADDRESS");
    ck_assert_str_eq(cuda_result_name(999), "CUDA_ERROR_UNKNOWN");
    ck_assert_ptr_null(cuda_result_name(12345));
    ck_assert_int_eq(cuda_check(0, "cuInit", err, sizeof err), 0);
    ck_assert_int_eq(cuda_check(2, "cuMemAlloc", err, sizeof err), -1);
    ck_assert_str_eq(err, "cuMemAlloc: CUDA_ERROR_OUT_OF_MEMORY");
    ck_assert_int_eq(cuda_check(12345, "cuX", err, sizeof err), -1);
    ck_assert_str_eq(err, "cuX: CUresult 12345");
}
END_TEST

/* the table itself: versioned names resolved, a missing one recorded */
START_TEST(test_open_table)
{
    CudaApi api;
    char err[256];
    ck_assert_int_eq(cuda_api_open(&api, fake("h200"), err, sizeof err), 0);
    ck_assert_ptr_null(api.missing);
    ck_assert_ptr_nonnull(api.cuMemAlloc);
    ck_assert_ptr_nonnull(api.cuEventElapsedTime);
    cuda_api_close(&api);
    ck_assert_ptr_null(api.lib);
    ck_assert_int_eq(cuda_api_open(&api, fake("nolaunch"), err, sizeof err), 0);
    ck_assert_str_eq(api.missing, "cuLaunchKernel");
    ck_assert_ptr_null(api.cuLaunchKernel);
    cuda_api_close(&api);
}
END_TEST

START_TEST(test_device_paths)
{
    char why[256];
    CudaDevice d;
    setenv("UEAJ_LIBCUDA", fake("h200"), 1);
    ck_assert_int_eq(cuda_select("cuda", &d, why, sizeof why), CUDA_BACKEND_CUDA);
    ck_assert_str_eq(d.name, "NVIDIA H200");
    ck_assert_int_eq(d.cc_major * 10 + d.cc_minor, 90);
    ck_assert_int_eq(d.sm_count, 132);
    ck_assert_int_eq(d.driver_version, 13000);
    ck_assert_int_eq(cuda_device_open(&d, why, sizeof why), 0);
    ck_assert_ptr_nonnull(d.ctx);
    const CudaApi *a = &d.api;
    CUdeviceptr p = 0;
    float in[4] = { 1, 2, 3, 4 }, out[4] = { 0 };
    ck_assert_int_eq(a->cuMemAlloc(&p, sizeof in), 0);
    ck_assert_int_eq(a->cuMemcpyHtoD(p, in, sizeof in), 0);
    ck_assert_int_eq(a->cuMemcpyDtoH(out, p, sizeof out), 0);
    ck_assert(memcmp(in, out, sizeof in) == 0);
    ck_assert_int_eq(a->cuMemsetD8(p, 0, sizeof in), 0);
    ck_assert_int_eq(a->cuMemcpyDtoH(out, p, sizeof out), 0);
    ck_assert(out[0] == 0 && out[3] == 0);
    ck_assert_int_eq(a->cuMemFree(p), 0);
    CUmodule m;
    ck_assert_int_eq(cuda_check(a->cuModuleLoadData(&m, "x"), "cuModuleLoadData", why, sizeof why), -1);
    ck_assert_str_eq(why, "cuModuleLoadData: CUDA_ERROR_INVALID_IMAGE");
    cuda_device_close(&d);
    ck_assert_ptr_null(d.ctx);
    ck_assert_ptr_null(d.api.lib);
    cuda_device_close(&d);                      /* twice is harmless */
    unsetenv("UEAJ_LIBCUDA");
}
END_TEST

extern Suite *suite_cuda_api(void);
Suite *suite_cuda_api(void)
{
    Suite *s = suite_create("cuda_api");
    TCase *tc = tcase_create("select");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_no_library);
    tcase_add_test(tc, test_stub);
    tcase_add_test(tc, test_fakes);
    tcase_add_test(tc, test_cpu_and_bad_want);
    tcase_add_test(tc, test_error_names);
    tcase_add_test(tc, test_open_table);
    tcase_add_test(tc, test_device_paths);
    suite_add_tcase(s, tc);
    return s;
}
