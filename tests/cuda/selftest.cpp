/* selftest.cpp - the CUDA-on-CPU harness tested with hand-written kernels.
 *
 *   selftest TEST [GEMV_SO]      (run by tests/cuda/run.sh, one process per test)
 *
 * The kernels (tests/cuda/selftest/NAME.cu) are written like generated code
 * (extern "C", UeajDims by value, bf16 as unsigned short).  run.sh passes
 * them through cu2cpu.sh into the build directory and compiles this file
 * with -include cuda_shim.hpp and that directory first on the include path,
 * so the #includes below pick up the rewritten copies.  gemv.cu is not
 * included: it is built into a shared object and launched by name through
 * dlopen and cuda_shim_launch, the route the compiler's tests will take.
 *
 * Every good kernel is checked against a plain float64 (or integer)
 * reference computed here; tolerances are stated per test.  The broken
 * kernels (race, divergent, oob) are checked by run.sh for the failure the
 * harness must report; `race` itself exits 0 when the racy kernel's result
 * differs from the reference while its correct twin matches.
 *
 * Prints one line of detail and exits 0 on success, 1 on failure.
 */
#include <dlfcn.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <vector>

#include "atomics.cu"
#include "attention.cu"
#include "divergent.cu"
#include "oob.cu"
#include "race.cu"
#include "rmsnorm.cu"
#include "softmax.cu"
#include "warp_ops.cu"

/* xorshift64*: deterministic inputs */
static unsigned long long rng_state = 0x9e3779b97f4a7c15ull;
static double urand() /* [-1, 1) */
{
    rng_state ^= rng_state >> 12, rng_state ^= rng_state << 25, rng_state ^= rng_state >> 27;
    return (double)((rng_state * 2685821657736338717ull) >> 11) / 4503599627370496.0 - 1.0;
}
static double now()
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}
static UeajDims dims(long long a, long long b = 0, long long c = 0, long long d = 0, long long e = 0)
{
    UeajDims u = {{a, b, c, d, e, 0, 0, 0}};
    return u;
}
/* Exact-size heap buffers, so AddressSanitizer bounds them. */
template <class T>
static T *alloc(size_t n)
{
    return static_cast<T *>(malloc(n * sizeof(T)));
}

static int test_rmsnorm()
{
    const long long rows = 48, D = 1000; /* D not a multiple of the block */
    float *x = alloc<float>(rows * D);
    unsigned short *w = alloc<unsigned short>(D), *out = alloc<unsigned short>(rows * D);
    for (long long i = 0; i < rows * D; i++) x[i] = (float)(3.0 * urand());
    for (long long i = 0; i < D; i++) w[i] = ueaj_f32_to_bf16((float)(1.0 + 0.5 * urand()));
    /* through void **params, as cuLaunchKernel takes them */
    UeajDims dm = dims(rows, D);
    const float *a0 = x;
    const unsigned short *a1 = w;
    void *params[] = {&dm, &a0, &a1, &out};
    /* impossible geometries are refused (-1 and a message), as the driver API would */
    if (cuda_shim::launch_params(rmsnorm_bf16, dim3(rows), dim3(2048), 0, params) != -1 ||
        cuda_shim::launch_params(rmsnorm_bf16, dim3(0), dim3(256), 0, params) != -1 ||
        cuda_shim::launch_params(rmsnorm_bf16, dim3(rows), dim3(256), 1 << 20, params) != -1) {
        printf("an impossible launch was not refused\n");
        return 1;
    }
    if (cuda_shim::launch_params(rmsnorm_bf16, dim3(rows), dim3(256), 0, params)) return 1;
    /* float64 reference; bf16 result within one bf16 ulp (2^-8 relative) */
    int bad = 0;
    double worst = 0;
    for (long long r = 0; r < rows; r++) {
        double ss = 0;
        for (long long i = 0; i < D; i++) ss += (double)x[r * D + i] * x[r * D + i];
        double inv = 1.0 / sqrt(ss / D + 1e-5);
        for (long long i = 0; i < D; i++) {
            double ref = x[r * D + i] * inv * ueaj_bf16_to_f32(w[i]);
            double got = ueaj_bf16_to_f32(out[r * D + i]);
            double err = fabs(got - ref) / (fabs(ref) + 1e-30);
            if (err > worst) worst = err;
            if (fabs(got - ref) > fabs(ref) / 128 + 1e-6) bad++;
        }
    }
    printf("%lld x %lld, launch_params, bad geometries refused; max rel err %.2g (1 bf16 ulp = 7.8e-3), %d bad\n", rows, D, worst, bad);
    free(x), free(w), free(out);
    return bad != 0;
}

static int test_gemv(const char *so)
{
    const long long R = 2048, K = 8192;
    float *x = alloc<float>(K), *y = alloc<float>(R);
    unsigned short *w = alloc<unsigned short>(R * K);
    for (long long i = 0; i < K; i++) x[i] = (float)urand();
    for (long long i = 0; i < R * K; i++) w[i] = ueaj_f32_to_bf16((float)urand());
    void *h = dlopen(so, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        printf("dlopen: %s\n", dlerror());
        return 1;
    }
    typedef int (*LaunchFn)(const char *, unsigned, unsigned, unsigned, unsigned, unsigned, unsigned, size_t,
                            void **);
    LaunchFn launch = (LaunchFn)dlsym(h, "cuda_shim_launch");
    if (!launch) {
        printf("dlsym cuda_shim_launch: %s\n", dlerror());
        return 1;
    }
    UeajDims dm = dims(R, K);
    const float *px = x;
    const unsigned short *pw = w;
    void *params[] = {&dm, &px, &pw, &y};
    if (launch("no_such_kernel", 1, 1, 1, 32, 1, 1, 0, params) != -1) {
        printf("an unknown kernel name was not refused\n");
        return 1;
    }
    double t0 = now();
    if (launch("gemv_f32_bf16", (unsigned)(R / 8), 1, 1, 256, 1, 1, 0, params)) return 1;
    double t1 = now();
    /* error bound of f32 sums of K products: 1e-5 * sum |x w| (K/32 terms per lane, then 5) */
    int bad = 0;
    double worst = 0;
    for (long long r = 0; r < R; r++) {
        double ref = 0, mag = 0;
        for (long long k = 0; k < K; k++) {
            double p = (double)x[k] * ueaj_bf16_to_f32(w[r * K + k]);
            ref += p, mag += fabs(p);
        }
        double err = fabs(y[r] - ref) / mag;
        if (err > worst) worst = err;
        if (err > 1e-5) bad++;
    }
    printf("%lld x %lld, 256-thread blocks, dlopen + cuda_shim_launch: %.0f ms; max err %.2g of sum|xw|, %d bad\n", R,
           K, (t1 - t0) * 1e3, worst, bad);
    dlclose(h);
    free(x), free(y), free(w);
    return bad != 0;
}

static int test_softmax()
{
    const long long rows = 40, D = 777;
    const unsigned threads = 128;
    float *x = alloc<float>(rows * D), *y = alloc<float>(rows * D);
    for (long long i = 0; i < rows * D; i++) x[i] = (float)(8.0 * urand());
    size_t smem = (size_t)(D + threads) * sizeof(float);
    if (cuda_shim::launch(softmax_rows, dim3(rows), dim3(threads), smem, dims(rows, D), x, y)) return 1;
    int bad = 0;
    double worst = 0;
    for (long long r = 0; r < rows; r++) {
        double m = -INFINITY, s = 0;
        for (long long i = 0; i < D; i++) m = fmax(m, x[r * D + i]);
        for (long long i = 0; i < D; i++) s += exp(x[r * D + i] - m);
        for (long long i = 0; i < D; i++) {
            double ref = exp(x[r * D + i] - m) / s, err = fabs(y[r * D + i] - ref) / ref;
            if (err > worst) worst = err;
            if (err > 1e-5) bad++;
        }
    }
    printf("%lld x %lld, %zu bytes of extern __shared__; max rel err %.2g (limit 1e-5), %d bad\n", rows, D, smem,
           worst, bad);
    free(x), free(y);
    return bad != 0;
}

static int test_atomics()
{
    const long long n = 100003;
    const unsigned grid = 24, threads = 128;
    int *v = alloc<int>(n), *maxv = alloc<int>(1), *flags = alloc<int>(2);
    unsigned *hist = alloc<unsigned>(64);
    float *sum = alloc<float>(1);
    unsigned long long *evens = alloc<unsigned long long>(1);
    for (long long i = 0; i < n; i++) v[i] = (int)(500000 * (urand() + 1.0));
    memset(hist, 0, 64 * sizeof *hist);
    *sum = 0, *maxv = -2147483647 - 1, *evens = 0, flags[0] = flags[1] = 0;
    if (cuda_shim::launch(histogram, dim3(grid), dim3(threads), 0, dims(n), v, hist, sum, maxv, evens, flags)) return 1;
    unsigned ref_hist[64] = {0};
    double ref_sum = 0, mag = 0;
    int ref_max = -2147483647 - 1;
    unsigned long long ref_even = 0;
    for (long long i = 0; i < n; i++) {
        ref_hist[v[i] & 63]++;
        ref_sum += (double)(float)v[i] * (double)0.001f, mag += fabs((double)v[i] * 0.001);
        ref_max = v[i] > ref_max ? v[i] : ref_max;
        ref_even += (v[i] & 1) == 0;
    }
    int bad = memcmp(hist, ref_hist, sizeof ref_hist) != 0;
    double err = fabs(*sum - ref_sum) / mag; /* f32 sums of n terms: 1e-5 relative */
    bad += err > 1e-5;
    bad += *maxv != ref_max;
    bad += *evens != ref_even;
    bad += flags[0] < 1 || flags[0] > (int)grid || flags[1] < 0 || flags[1] >= (int)grid;
    printf("n %lld: histogram %s, float sum rel err %.2g (limit 1e-5), max %s, evens %llu/%llu, CAS winner %d, "
           "last exch %d\n",
           n, memcmp(hist, ref_hist, sizeof ref_hist) ? "WRONG" : "exact", err, *maxv == ref_max ? "exact" : "WRONG",
           *evens, ref_even, flags[0], flags[1]);
    free(v), free(maxv), free(flags), free(hist), free(sum), free(evens);
    return bad != 0;
}

static int test_attention()
{
    const int pos = 40, H = 8, KVH = 2, D = 64, T = 64;
    float *q = alloc<float>(H * D), *out = alloc<float>(H * D);
    unsigned short *k = alloc<unsigned short>(T * KVH * D), *v = alloc<unsigned short>(T * KVH * D);
    for (int i = 0; i < H * D; i++) q[i] = (float)(2.0 * urand());
    for (int i = 0; i < T * KVH * D; i++) k[i] = ueaj_f32_to_bf16((float)urand()), v[i] = ueaj_f32_to_bf16((float)urand());
    if (cuda_shim::launch(attn_decode_gqa, dim3(H), dim3(128), 0, dims(pos, H, KVH, D, T), q, k, v, out)) return 1;
    int bad = 0;
    double worst = 0;
    for (int h = 0; h < H; h++) {
        int g = h / (H / KVH);
        std::vector<double> p(pos + 1);
        double m = -INFINITY, s = 0;
        for (int t = 0; t <= pos; t++) {
            double dot = 0;
            for (int d = 0; d < D; d++) dot += (double)q[h * D + d] * ueaj_bf16_to_f32(k[(t * KVH + g) * D + d]);
            p[t] = dot / sqrt((double)D), m = fmax(m, p[t]);
        }
        for (int t = 0; t <= pos; t++) p[t] = exp(p[t] - m), s += p[t];
        for (int d = 0; d < D; d++) {
            double ref = 0;
            for (int t = 0; t <= pos; t++) ref += p[t] / s * ueaj_bf16_to_f32(v[(t * KVH + g) * D + d]);
            double err = fabs(out[h * D + d] - ref);
            if (err > worst) worst = err;
            if (err > 1e-5 + 1e-4 * fabs(ref)) bad++;
        }
    }
    printf("H %d, KV heads %d, head_dim %d, pos %d; max abs err %.2g (limit 1e-5 + 1e-4 |ref|), %d bad\n", H, KVH, D,
           pos, worst, bad);
    free(q), free(out), free(k), free(v);
    return bad != 0;
}

static int test_warp_ops()
{
    int bad = 0;
    const dim3 shapes[2] = {dim3(32, 2, 2), dim3(16, 3, 1)}; /* four full warps; one and a half warps */
    const unsigned grid = 3;
    for (const dim3 &b : shapes) {
        const int n = (int)(b.x * b.y * b.z);
        int *out = alloc<int>((size_t)grid * n * 16);
        if (cuda_shim::launch(warp_ops, dim3(grid), b, 0, dims(77), out)) return 1;
        for (unsigned blk = 0; blk < grid; blk++)
            for (int tid = 0; tid < n; tid++) {
                const int lane = tid % 32, base = tid - lane;
                const int live = n - base >= 32 ? 32 : n - base;
                /* the value of lane s of this warp; lanes past the block read as poison (-1) */
                auto val = [&](int s) { return s < live ? 1000 * (int)blk + base + s : -1; };
                auto shfl = [&](int src, int w) { return val(lane / w * w + src % w); };
                auto up = [&](int d, int w) { return val(lane % w >= d ? lane - d : lane); };
                auto down = [&](int d, int w) { return val(lane % w + d < w ? lane + d : lane); };
                auto xr = [&](int m, int w) { return val((lane ^ m) < lane / w * w + w ? lane ^ m : lane); };
                unsigned ballot = 0;
                for (int l = 0; l < live; l++) ballot |= (l % 3 == 0 ? 1u : 0u) << l;
                const unsigned active = live == 32 ? 0xffffffffu : (1u << live) - 1;
                int expect[16] = {shfl(5, 32),   shfl(lane + 3, 16), up(3, 32), up(3, 8),
                                  down(5, 32),   down(5, 16),        xr(9, 32), xr(9, 8),
                                  (int)ballot,   live > 7,           live < 32 ? 1 : 0, 1,
                                  (int)active,   xr(1, 32),          down(1, 32), 77};
                const int *got = out + ((size_t)blk * n + tid) * 16;
                for (int j = 0; j < 16; j++)
                    if (got[j] != expect[j]) {
                        if (bad < 5)
                            printf("block (%u,%u,%u) #%u thread %d: result %d is %d, expected %d\n", b.x, b.y, b.z,
                                   blk, tid, j, got[j], expect[j]);
                        bad++;
                    }
            }
        free(out);
    }
    printf("shuffles (idx/up/down/xor, widths 32/16/8, int/float/long long), votes, activemask, syncwarp on "
           "32x2x2 and 16x3 blocks: %d wrong\n",
           bad);
    return bad != 0;
}

static int test_race()
{
    const long long rows = 16, D = 3000;
    float *x = alloc<float>(rows * D), *ok = alloc<float>(rows), *racy = alloc<float>(rows);
    for (long long i = 0; i < rows * D; i++) x[i] = (float)(urand() + 1.5); /* positive: no cancellation */
    if (cuda_shim::launch(block_sum_ok, dim3(rows), dim3(256), 0, dims(rows, D), x, ok)) return 1;
    if (cuda_shim::launch(block_sum_racy, dim3(rows), dim3(256), 0, dims(rows, D), x, racy)) return 1;
    int ok_bad = 0, racy_bad = 0;
    for (long long r = 0; r < rows; r++) {
        double ref = 0;
        for (long long i = 0; i < D; i++) ref += x[r * D + i];
        ok_bad += fabs(ok[r] - ref) > 1e-5 * ref;
        racy_bad += fabs(racy[r] - ref) > 1e-5 * ref;
    }
    printf("missing __syncthreads: %d of %lld racy rows wrong (must be all), correct twin %d wrong (must be 0)\n",
           racy_bad, rows, ok_bad);
    free(x), free(ok), free(racy);
    return !(racy_bad == rows && ok_bad == 0);
}

/* The broken kernels below abort (or trip ASan); run.sh checks how. */
static int run_broken(const char *name)
{
    float *out = alloc<float>(256);
    int rc = 0;
    if (!strcmp(name, "divergent"))
        rc = cuda_shim::launch(divergent_barrier, dim3(2), dim3(256), 0, dims(1), out);
    else if (!strcmp(name, "early_exit"))
        rc = cuda_shim::launch(early_exit_barrier, dim3(1), dim3(128), 0, dims(100), out);
    else if (!strcmp(name, "deadlock"))
        rc = cuda_shim::launch(shuffle_vs_barrier, dim3(1), dim3(64), 0, dims(1), out);
    else if (!strcmp(name, "oob")) {
        const long long n = 1000;
        float *x = alloc<float>(n), *y = alloc<float>(n);
        for (long long i = 0; i < n; i++) x[i] = (float)i;
        rc = cuda_shim::launch(scale2, dim3((unsigned)((n + 255) / 256)), dim3(256), 0, dims(n), x, y);
        free(x), free(y);
    } else if (!strcmp(name, "oob_shared"))
        rc = cuda_shim::launch(shared_oob, dim3(1), dim3(256), 0, dims(3), out);
    printf("the broken kernel %s ran to completion (rc %d)\n", name, rc);
    free(out);
    return 1;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: selftest TEST [GEMV_SO]\n");
        return 2;
    }
    const char *t = argv[1];
    if (!strcmp(t, "rmsnorm")) return test_rmsnorm();
    if (!strcmp(t, "gemv")) return argc > 2 ? test_gemv(argv[2]) : 2;
    if (!strcmp(t, "softmax")) return test_softmax();
    if (!strcmp(t, "atomics")) return test_atomics();
    if (!strcmp(t, "attention")) return test_attention();
    if (!strcmp(t, "warp_ops")) return test_warp_ops();
    if (!strcmp(t, "race")) return test_race();
    return run_broken(t);
}
