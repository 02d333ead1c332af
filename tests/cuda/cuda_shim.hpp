/* cuda_shim.hpp - run NVRTC-style CUDA C kernels on the CPU, for tests.
 *
 * CI has no GPU, so every kernel the CUDA dialect emits is also compiled as
 * host C++17 (g++, optionally under -fsanitize=address,undefined) against
 * this header and compared with the C backend.  The header is the whole
 * "device": no CUDA headers, no libraries beyond libstdc++ and libpthread.
 *
 * Execution model.  Blocks run one after another on the calling OS thread
 * (or, with the environment variable CUDA_SHIM_THREADS=N, on N OS threads,
 * block b on thread b % N, so each thread sees a fixed sequence of blocks).
 * Every CUDA thread of a block is a fiber with its own stack (64 KB, 128 KB
 * under AddressSanitizer, a guard page below each) and the fibers switch
 * with a thirteen-instruction x86-64 context switch (it keeps MXCSR and the
 * x87 control word, which kernels do not change; ucontext elsewhere, or with
 * -DCUDA_SHIM_UCONTEXT, about ten times slower).  Scheduling is deterministic: each fiber runs, in
 * thread-index order, until it blocks (at a barrier or a warp collective)
 * or returns; the last arrival at a barrier releases the others and goes
 * on.  So thread 0 reaches a missing barrier's reads before thread 1 wrote
 * anything, and a race shows up as a wrong answer, every run.
 *
 * Barriers are strict.  __syncthreads() releases when every thread of the
 * block waits at the same source line; a thread reaching a different
 * __syncthreads(), a thread returning from the kernel while another waits
 * at one, or a barrier reached after some thread returned, aborts with the
 * source lines and the threads named.  Warp collectives (the
 * shuffles, votes, __syncwarp) wait for every lane of their mask; lanes
 * that disagree on the collective or the mask abort the same way, and a
 * block where nothing can run (say one warp in a shuffle, another at
 * __syncthreads) aborts as a deadlock listing where each thread waits.
 * Reading a lane outside the mask (or past the block's last thread) gives
 * an all-ones poison value (a NaN for float), not an abort, because code
 * often shuffles values it then ignores.
 *
 * Memory.  Kernel pointers are ordinary host pointers; the test allocates
 * them with malloc, so AddressSanitizer bounds every buffer.  Static
 * __shared__ variables become block-scope thread_local (implicitly static),
 * one copy per OS thread, so the blocks of that thread reuse it as a GPU
 * reuses shared memory; ASan does not pad thread_local arrays, but UBSan's
 * bounds check catches constant-size arrays indexed out of range.  Dynamic
 * shared memory is a malloc'd buffer of exactly the launch size per block,
 * filled with 0xff bytes (NaN) so unwritten reads show.
 *
 * extern __shared__.  `extern __shared__ T name[];` cannot be redirected by
 * a macro (the `extern` comes first), so sources are rewritten by
 * tests/cuda/cu2cpu.sh, one line at a time (line numbers are kept, and a
 * #line directive names the original file), into
 * CUDA_SHIM_EXTERN_SHARED(T, name), a pointer to the block's buffer (an
 * __align__ there is dropped: malloc aligns to 16).  The rest of a kernel
 * source compiles unchanged.
 *
 * Launching.  From C++ (a test that #includes the rewritten .cu):
 *
 *   int cuda_shim::launch(void (*kernel)(P...), dim3 grid, dim3 block,
 *                         size_t dyn_smem, A &&...args);
 *   int cuda_shim::launch_params(void (*kernel)(P...), dim3 grid, dim3 block,
 *                                size_t dyn_smem, void **params);
 *
 * launch_params mirrors cuLaunchKernel's kernelParams: params[i] points at
 * the value of parameter i, whose type (a struct passed by value such as
 * UeajDims, a pointer, a scalar) comes from the kernel's own signature.
 * From C, through dlopen: a shared object built from a rewritten .cu with
 * one CUDA_SHIM_REGISTER(kernel_name) line per kernel appended
 *
 *   g++ -std=c++17 -shared -fPIC -fvisibility=hidden -fvisibility-inlines-hidden
 *       -include cuda_shim.hpp gen.cpu.cu -o gen.so
 *
 * exports
 *
 *   int cuda_shim_launch(const char *kernel_name, unsigned gx, unsigned gy,
 *                        unsigned gz, unsigned bx, unsigned by, unsigned bz,
 *                        size_t dyn_smem, void **params);
 *
 * Both return 0, or -1 after a message on stderr for an unknown kernel or
 * an impossible geometry (more than 1024 threads, a zero dimension, more
 * than 227 KB of dynamic shared memory).  Errors inside kernels abort.
 *
 * Supported CUDA subset: __global__ __device__ __host__ __forceinline__
 * __noinline__ __restrict__ __launch_bounds__(...) __align__(n)
 * __constant__ (plain host globals) and extern "C"; threadIdx blockIdx
 * blockDim gridDim warpSize; static and extern __shared__; __syncthreads;
 * __shfl_sync __shfl_xor_sync __shfl_down_sync __shfl_up_sync (scalars of
 * 1, 2, 4 or 8 bytes, width a power of two <= 32), __ballot_sync
 * __any_sync __all_sync __syncwarp __activemask __threadfence
 * __threadfence_block; atomicAdd (float, double, int, unsigned, unsigned
 * long long), atomicMax/atomicMin (int, unsigned), atomicCAS (int,
 * unsigned, unsigned long long), atomicExch (the same and float); expf
 * __expf sqrtf rsqrtf fmaf fabsf fmaxf fminf logf __logf tanhf erff sinf
 * cosf __fdividef, min/max (int, unsigned, long long, unsigned long long,
 * float, double), __float_as_uint __uint_as_float __float_as_int
 * __int_as_float __double_as_longlong __longlong_as_double __ldg __fmul_rn __fadd_rn __fmaf_rn __popc __clz __ffs,
 * printf; the vector types float4 uint4 uint2 (aligned 16, 16, 8: a
 * misaligned vector access is undefined on the GPU, and UBSan reports it
 * here).  Not modelled: cuda_fp16/bf16 types (generated code carries its
 * own bit-level conversions), tensor cores, cp.async, inline PTX, cluster
 * and grid sync, memory fences beyond program order.
 */
#ifndef CUDA_SHIM_HPP
#define CUDA_SHIM_HPP

#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <cstddef>
#include <map>
#include <string>
#include <thread>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#if !defined(__x86_64__) && !defined(CUDA_SHIM_UCONTEXT)
#define CUDA_SHIM_UCONTEXT 1
#endif
#ifdef CUDA_SHIM_UCONTEXT
#include <ucontext.h>
#endif

#if defined(__SANITIZE_ADDRESS__)
#define CUDA_SHIM_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CUDA_SHIM_ASAN 1
#endif
#endif
#ifdef CUDA_SHIM_ASAN
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#endif

/* ---- qualifiers ------------------------------------------------------ */
#define __global__
#define __device__
#define __host__
#define __constant__
#define __forceinline__ inline __attribute__((always_inline))
#define __noinline__ __attribute__((noinline))
#define __restrict__ __restrict
#define __launch_bounds__(...)
#define __align__(n) __attribute__((aligned(n)))
#define __shared__ thread_local
#define CUDA_SHIM_EXTERN_SHARED(T, name) T *const name = reinterpret_cast<T *>(::cuda_shim::dyn_smem())

/* ---- built-in vector types (the ones generated code loads and stores
 * through: 8- and 16-byte accesses, aligned as on the GPU) -------------- */
struct __attribute__((aligned(16))) float4 { float x, y, z, w; };
struct __attribute__((aligned(16))) uint4 { unsigned x, y, z, w; };
struct __attribute__((aligned(8))) uint2 { unsigned x, y; };

/* ---- built-in variables ---------------------------------------------- */
struct uint3 {
    unsigned x, y, z;
};
struct dim3 {
    unsigned x, y, z;
    constexpr dim3(unsigned x_ = 1, unsigned y_ = 1, unsigned z_ = 1) : x(x_), y(y_), z(z_) {}
    constexpr dim3(uint3 u) : x(u.x), y(u.y), z(u.z) {}
};
/* Set by the scheduler before every switch into a fiber (one OS thread
 * runs all fibers of a block, so an OS-thread-local variable suffices). */
inline thread_local uint3 threadIdx;
inline thread_local uint3 blockIdx;
inline thread_local dim3 blockDim;
inline thread_local dim3 gridDim;
static constexpr int warpSize = 32;

namespace cuda_shim {

#ifndef CUDA_SHIM_STACK
#ifdef CUDA_SHIM_ASAN
#define CUDA_SHIM_STACK (128 * 1024)
#else
#define CUDA_SHIM_STACK (64 * 1024)
#endif
#endif
#define CUDA_SHIM_MAX_DYN_SMEM (227 * 1024)

/* ---- context switch ---------------------------------------------------- */
#ifndef CUDA_SHIM_UCONTEXT
/* switch_to(save, to): pushes the callee-saved registers, stores the stack
 * pointer in *save, loads `to` and pops the other context's registers.  A
 * new fiber's stack holds six zero registers and the address of
 * fiber_trampoline, which calls the function left in r13. */
__attribute__((naked, noinline)) static void switch_to(void **, void *)
{
    __asm__ volatile("pushq %rbp\n\tpushq %rbx\n\tpushq %r12\n\tpushq %r13\n\tpushq %r14\n\tpushq %r15\n\t"
                     "movq %rsp, (%rdi)\n\tmovq %rsi, %rsp\n\t"
                     "popq %r15\n\tpopq %r14\n\tpopq %r13\n\tpopq %r12\n\tpopq %rbx\n\tpopq %rbp\n\tretq");
}
__attribute__((naked, noinline)) static void fiber_trampoline()
{
    /* the outermost frame: unwinders (ASan's reports, gdb) stop here */
    __asm__ volatile(".cfi_undefined rip\n\tcallq *%r13\n\tud2");
}
#endif

enum { F_RUN, F_BAR, F_WARP, F_DONE };
enum { W_SHFL, W_VOTE, W_SYNC };
static const char *const warp_op_name[] = {"a warp shuffle", "a warp vote", "__syncwarp()"};

struct Fiber {
    void *sp;
    char *stack;
    uint3 tid;
    int state;
    const char *file; /* where it waits */
    int line;
#ifdef CUDA_SHIM_UCONTEXT
    ucontext_t uc;
#endif
    void *fake; /* ASan's fake stack while switched out */
};

struct Warp {
    uint32_t exists, exited, arrived, mask;
    int op;
    const char *file;
    int line;
    unsigned first; /* linear index of the first lane to arrive */
    unsigned parity;
    uint64_t slot[2][32];
};

struct Worker {
    std::vector<Fiber> fibers;
    std::vector<Warp> warps;
    char *stacks = nullptr;
    size_t stacks_len = 0;
    unsigned n = 0, cur = 0, done = 0;
    void *sched_sp = nullptr;
#ifdef CUDA_SHIM_UCONTEXT
    ucontext_t sched_uc;
#endif
    /* the block barrier */
    unsigned bar_waiting = 0, bar_first = 0, exited_first = 0;
    const char *bar_file = nullptr;
    int bar_line = 0;
    void *dyn = nullptr;
    void (*entry)(void *) = nullptr;
    void *ctx = nullptr;
    void *sched_fake = nullptr;
    const void *sched_bottom = nullptr;
    size_t sched_size = 0;
};

inline thread_local Worker *cur_worker;

/* std::bit_cast for C++17 */
template <class To, class From>
inline To bits(From f)
{
    static_assert(sizeof(To) == sizeof(From), "bits: sizes differ");
    To t;
    memcpy(&t, &f, sizeof t);
    return t;
}

inline void *dyn_smem() { return cur_worker->dyn; }

/* ---- diagnostics ------------------------------------------------------- */
__attribute__((format(printf, 1, 2), noreturn)) inline void die(const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fprintf(stderr, "cuda_shim: block (%u,%u,%u): %s\n", blockIdx.x, blockIdx.y, blockIdx.z, msg);
    fflush(stderr);
    abort();
}

/* "thread (x,y,z)" of fiber i, written into buf. */
inline const char *tname(const Worker &w, unsigned i, char *buf, size_t len)
{
    const uint3 &t = w.fibers[i].tid;
    snprintf(buf, len, "thread (%u,%u,%u)", t.x, t.y, t.z);
    return buf;
}

/* ---- switching --------------------------------------------------------- */
inline void asan_start(void **fake, const void *bottom, size_t size)
{
#ifdef CUDA_SHIM_ASAN
    __sanitizer_start_switch_fiber(fake, bottom, size);
#else
    (void)fake, (void)bottom, (void)size;
#endif
}
inline void asan_finish(void *fake, const void **bottom, size_t *size)
{
#ifdef CUDA_SHIM_ASAN
    __sanitizer_finish_switch_fiber(fake, bottom, size);
#else
    (void)fake, (void)bottom, (void)size;
#endif
}

/* From the running fiber back to the scheduler; `last` when it returned
 * from the kernel (its stack's fake frames die with it). */
inline void yield(Worker &w, bool last)
{
    Fiber &f = w.fibers[w.cur];
    asan_start(last ? nullptr : &f.fake, w.sched_bottom, w.sched_size);
#ifdef CUDA_SHIM_UCONTEXT
    swapcontext(&f.uc, &w.sched_uc);
#else
    switch_to(&f.sp, w.sched_sp);
#endif
    asan_finish(f.fake, &w.sched_bottom, &w.sched_size);
}

inline void thread_exit(Worker &w);

inline void fiber_main()
{
    Worker &w = *cur_worker;
    asan_finish(nullptr, &w.sched_bottom, &w.sched_size);
    w.entry(w.ctx);
    thread_exit(w);
    yield(w, true);
    abort(); /* never resumed */
}

inline void resume(Worker &w, unsigned i)
{
    Fiber &f = w.fibers[i];
    w.cur = i;
    threadIdx = f.tid;
    asan_start(&w.sched_fake, f.stack, CUDA_SHIM_STACK);
#ifdef CUDA_SHIM_UCONTEXT
    swapcontext(&w.sched_uc, &f.uc);
#else
    switch_to(&w.sched_sp, f.sp);
#endif
    asan_finish(w.sched_fake, nullptr, nullptr);
}

inline void fiber_init(Fiber &f)
{
#ifdef CUDA_SHIM_UCONTEXT
    getcontext(&f.uc);
    f.uc.uc_stack.ss_sp = f.stack;
    f.uc.uc_stack.ss_size = CUDA_SHIM_STACK;
    f.uc.uc_link = nullptr;
    makecontext(&f.uc, fiber_main, 0);
#else
    uintptr_t top = ((uintptr_t)f.stack + CUDA_SHIM_STACK) & ~(uintptr_t)15;
    void **sp = (void **)top - 7;
    for (int k = 0; k < 6; k++) sp[k] = nullptr;
    sp[2] = (void *)&fiber_main;        /* r13 */
    sp[6] = (void *)&fiber_trampoline;  /* the return address */
    f.sp = sp;
#endif
    f.state = F_RUN;
    f.file = nullptr;
    f.line = 0;
}

/* ---- the block barrier ------------------------------------------------- */
inline void release_block(Worker &w)
{
    for (unsigned i = 0; i < w.n; i++)
        if (w.fibers[i].state == F_BAR) w.fibers[i].state = F_RUN;
    w.bar_waiting = 0;
}

inline void syncthreads_at(const char *file, int line)
{
    Worker &w = *cur_worker;
    char a[64], b[64];
    if (w.done)
        die("%s reached __syncthreads() at %s:%d after %s returned from the kernel without it", tname(w, w.cur, a, 64),
            file, line, tname(w, w.exited_first, b, 64));
    if (w.bar_waiting && (w.bar_line != line || strcmp(w.bar_file, file)))
        die("divergent __syncthreads(): %s waits at %s:%d while %s reached the __syncthreads() at %s:%d",
            tname(w, w.bar_first, a, 64), w.bar_file, w.bar_line, tname(w, w.cur, b, 64), file, line);
    if (!w.bar_waiting) w.bar_file = file, w.bar_line = line, w.bar_first = w.cur;
    if (++w.bar_waiting == w.n) {
        release_block(w); /* the last arrival goes on */
        return;
    }
    Fiber &f = w.fibers[w.cur];
    f.state = F_BAR, f.file = file, f.line = line;
    yield(w, false);
}

/* ---- warp collectives -------------------------------------------------- */
/* Every lane of `mask` (that exists in the block) arrives with its value;
 * the last arrival releases them.  Returns the exchange buffer to read. */
inline const uint64_t *warp_collective(int op, unsigned mask, uint64_t v, const char *file, int line)
{
    Worker &w = *cur_worker;
    unsigned lane = w.cur & 31;
    Warp &wp = w.warps[w.cur >> 5];
    char a[64], b[64];
    if (!(mask >> lane & 1))
        die("%s calls %s at %s:%d with mask 0x%08x, which leaves out its own lane %u", tname(w, w.cur, a, 64),
            warp_op_name[op], file, line, mask, lane);
    uint32_t need = mask & wp.exists;
    if (wp.arrived && (wp.op != op || wp.mask != mask))
        die("divergent warp collective: %s waits in %s (mask 0x%08x) at %s:%d while %s calls %s (mask 0x%08x) at %s:%d",
            tname(w, wp.first, a, 64), warp_op_name[wp.op], wp.mask, wp.file, wp.line, tname(w, w.cur, b, 64),
            warp_op_name[op], mask, file, line);
    if (need & wp.exited) {
        unsigned gone = (w.cur & ~31u) + (unsigned)__builtin_ctz(need & wp.exited);
        die("%s calls %s at %s:%d, but %s of its mask 0x%08x has returned from the kernel", tname(w, w.cur, a, 64),
            warp_op_name[op], file, line, tname(w, gone, b, 64), mask);
    }
    if (!wp.arrived) wp.op = op, wp.mask = mask, wp.file = file, wp.line = line, wp.first = w.cur;
    unsigned par = wp.parity;
    wp.slot[par][lane] = v;
    wp.arrived |= 1u << lane;
    if (wp.arrived == need) {
        wp.arrived = 0;
        wp.parity ^= 1;
        unsigned base = w.cur & ~31u;
        for (unsigned l = 0; l < 32; l++)
            if (need >> l & 1 && w.fibers[base + l].state == F_WARP) w.fibers[base + l].state = F_RUN;
        return wp.slot[par];
    }
    Fiber &f = w.fibers[w.cur];
    f.state = F_WARP, f.file = file, f.line = line;
    yield(w, false);
    return wp.slot[par];
}

inline void thread_exit(Worker &w)
{
    char a[64], b[64];
    Fiber &f = w.fibers[w.cur];
    if (w.bar_waiting)
        die("%s returned from the kernel while %s waits at __syncthreads() at %s:%d", tname(w, w.cur, a, 64),
            tname(w, w.bar_first, b, 64), w.bar_file, w.bar_line);
    Warp &wp = w.warps[w.cur >> 5];
    unsigned lane = w.cur & 31;
    if (wp.arrived && (wp.mask >> lane & 1))
        die("%s returned from the kernel while %s waits for it in %s (mask 0x%08x) at %s:%d", tname(w, w.cur, a, 64),
            tname(w, wp.first, b, 64), warp_op_name[wp.op], wp.mask, wp.file, wp.line);
    wp.exited |= 1u << lane;
    if (!w.done) w.exited_first = w.cur;
    w.done++;
    f.state = F_DONE;
}

/* Nothing can run but some threads have not returned. */
[[noreturn]] inline void deadlock(Worker &w)
{
    std::string msg = "deadlock: no thread can run;";
    char a[64], buf[256];
    int shown = 0;
    for (unsigned i = 0; i < w.n && shown < 6; i++) {
        Fiber &f = w.fibers[i];
        if (f.state == F_DONE) continue;
        bool dup = false; /* one line per distinct wait site */
        for (unsigned j = 0; j < i && !dup; j++)
            dup = w.fibers[j].state == f.state && w.fibers[j].line == f.line && w.fibers[j].file == f.file;
        if (dup) continue;
        snprintf(buf, sizeof buf, " %s waits at %s at %s:%d;", tname(w, i, a, 64),
                 f.state == F_BAR ? "__syncthreads()" : warp_op_name[w.warps[i >> 5].op], f.file, f.line);
        msg += buf, shown++;
    }
    die("%s", msg.c_str());
}

/* ---- running a grid ---------------------------------------------------- */
inline void run_block(Worker &w, uint3 bid, dim3 block, size_t smem)
{
    blockIdx = bid;
    w.n = block.x * block.y * block.z;
    w.done = 0, w.bar_waiting = 0;
    for (unsigned i = 0; i < w.n; i++) {
        Fiber &f = w.fibers[i];
        f.tid = uint3{i % block.x, i / block.x % block.y, i / (block.x * block.y)};
        fiber_init(f);
    }
    for (unsigned k = 0; k < w.warps.size(); k++) {
        Warp &wp = w.warps[k];
        unsigned left = w.n - 32 * k;
        wp.exists = left >= 32 ? 0xffffffffu : (1u << left) - 1;
        wp.exited = wp.arrived = 0;
        wp.parity = 0;
    }
    w.dyn = nullptr;
    if (smem) {
        w.dyn = malloc(smem);
        memset(w.dyn, 0xff, smem);
    }
    unsigned i = 0;
    while (w.done < w.n) {
        unsigned k = 0;
        while (k < w.n && w.fibers[i].state != F_RUN) i = i + 1 == w.n ? 0 : i + 1, k++;
        if (k == w.n) deadlock(w);
        resume(w, i);
        i = i + 1 == w.n ? 0 : i + 1;
    }
    free(w.dyn);
    w.dyn = nullptr;
}

/* Runs blocks first, first + step, ... of the grid on this OS thread. */
inline void run_blocks(dim3 grid, dim3 block, size_t smem, void (*entry)(void *), void *ctx, unsigned first,
                       unsigned step)
{
    Worker w;
    unsigned n = block.x * block.y * block.z;
    w.fibers.resize(n);
    w.warps.resize((n + 31) / 32);
    long page = sysconf(_SC_PAGESIZE);
    size_t per = CUDA_SHIM_STACK + (size_t)page;
    w.stacks_len = per * n;
    void *m = mmap(nullptr, w.stacks_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (m == MAP_FAILED) {
        fprintf(stderr, "cuda_shim: cannot map %zu bytes of fiber stacks\n", w.stacks_len);
        abort();
    }
    w.stacks = (char *)m;
#ifdef CUDA_SHIM_ASAN
    __asan_unpoison_memory_region(w.stacks, w.stacks_len);
#endif
    for (unsigned i = 0; i < n; i++) {
        mprotect(w.stacks + per * i, (size_t)page, PROT_NONE); /* guard page */
        w.fibers[i].stack = w.stacks + per * i + page;
    }
    w.entry = entry, w.ctx = ctx;
    Worker *saved = cur_worker;
    cur_worker = &w;
    blockDim = block, gridDim = grid;
    unsigned long long total = (unsigned long long)grid.x * grid.y * grid.z;
    for (unsigned long long b = first; b < total; b += step)
        run_block(w, uint3{(unsigned)(b % grid.x), (unsigned)(b / grid.x % grid.y), (unsigned)(b / grid.x / grid.y)},
                  block, smem);
    cur_worker = saved;
    munmap(w.stacks, w.stacks_len);
}

inline int run_grid(dim3 grid, dim3 block, size_t smem, void (*entry)(void *), void *ctx)
{
    unsigned long long n = (unsigned long long)block.x * block.y * block.z;
    if (!grid.x || !grid.y || !grid.z || !n || n > 1024 || block.z > 64 || grid.y > 65535 || grid.z > 65535 ||
        grid.x > 0x7fffffffu) {
        fprintf(stderr, "cuda_shim: invalid launch geometry grid (%u,%u,%u) block (%u,%u,%u)\n", grid.x, grid.y,
                grid.z, block.x, block.y, block.z);
        return -1;
    }
    if (smem > CUDA_SHIM_MAX_DYN_SMEM) {
        fprintf(stderr, "cuda_shim: %zu bytes of dynamic shared memory (at most %d)\n", smem, CUDA_SHIM_MAX_DYN_SMEM);
        return -1;
    }
    unsigned nthreads = 1;
    if (const char *e = getenv("CUDA_SHIM_THREADS")) nthreads = (unsigned)atoi(e);
    unsigned long long blocks = (unsigned long long)grid.x * grid.y * grid.z;
    if (nthreads < 1) nthreads = 1;
    if (nthreads > blocks) nthreads = (unsigned)blocks;
    if (nthreads == 1) {
        run_blocks(grid, block, smem, entry, ctx, 0, 1);
        return 0;
    }
    std::vector<std::thread> pool;
    for (unsigned t = 0; t < nthreads; t++)
        pool.emplace_back([=] { run_blocks(grid, block, smem, entry, ctx, t, nthreads); });
    for (auto &t : pool) t.join();
    return 0;
}

/* A kernel and its argument values, called once per CUDA thread. */
template <class... P>
struct Call {
    void (*kernel)(P...);
    std::tuple<std::decay_t<P>...> args;
    static void invoke(void *p)
    {
        Call *c = static_cast<Call *>(p);
        std::apply(c->kernel, c->args); /* each thread gets its own copies of by-value parameters */
    }
};

template <class... P, class... A>
int launch(void (*kernel)(P...), dim3 grid, dim3 block, size_t dyn_smem, A &&...args)
{
    static_assert(sizeof...(P) == sizeof...(A), "cuda_shim::launch: wrong number of kernel arguments");
    Call<P...> c{kernel, std::tuple<std::decay_t<P>...>(std::forward<A>(args)...)};
    return run_grid(grid, block, dyn_smem, &Call<P...>::invoke, &c);
}

template <class... P, size_t... I>
int launch_params_(void (*kernel)(P...), dim3 grid, dim3 block, size_t dyn_smem, void **params,
                   std::index_sequence<I...>)
{
    Call<P...> c{kernel, std::tuple<std::decay_t<P>...>(*static_cast<std::decay_t<P> *>(params[I])...)};
    return run_grid(grid, block, dyn_smem, &Call<P...>::invoke, &c);
}

/* cuLaunchKernel's kernelParams: params[i] points at parameter i's value. */
template <class... P>
int launch_params(void (*kernel)(P...), dim3 grid, dim3 block, size_t dyn_smem, void **params)
{
    return launch_params_(kernel, grid, block, dyn_smem, params, std::index_sequence_for<P...>{});
}

/* ---- the registry behind cuda_shim_launch ------------------------------ */
typedef int (*Launcher)(dim3, dim3, size_t, void **);
inline std::map<std::string, Launcher> &registry()
{
    static std::map<std::string, Launcher> r;
    return r;
}
template <auto K>
int launcher(dim3 grid, dim3 block, size_t smem, void **params)
{
    return launch_params(K, grid, block, smem, params);
}
inline int register_kernel(const char *name, Launcher l)
{
    registry()[name] = l;
    return 0;
}

} /* namespace cuda_shim */

/* One line per kernel, after its definition: CUDA_SHIM_REGISTER(name); */
#define CUDA_SHIM_REGISTER(k) \
    static const int cuda_shim_registered_##k __attribute__((unused)) = \
        ::cuda_shim::register_kernel(#k, &::cuda_shim::launcher<&k>)

extern "C" __attribute__((weak, visibility("default"))) int
cuda_shim_launch(const char *kernel_name, unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by,
                 unsigned bz, size_t dyn_smem, void **params)
{
    auto &r = ::cuda_shim::registry();
    auto it = r.find(kernel_name);
    if (it == r.end()) {
        fprintf(stderr, "cuda_shim: no kernel named %s is registered\n", kernel_name);
        return -1;
    }
    return it->second(dim3(gx, gy, gz), dim3(bx, by, bz), dyn_smem, params);
}

/* ---- device functions ------------------------------------------------ */
inline void __syncthreads(const char *file = __builtin_FILE(), int line = __builtin_LINE())
{
    ::cuda_shim::syncthreads_at(file, line);
}
inline void __syncwarp(unsigned mask = 0xffffffffu, const char *file = __builtin_FILE(),
                       int line = __builtin_LINE())
{
    ::cuda_shim::warp_collective(::cuda_shim::W_SYNC, mask, 0, file, line);
}
inline void __threadfence() { __atomic_thread_fence(__ATOMIC_SEQ_CST); }
inline void __threadfence_block() { __atomic_thread_fence(__ATOMIC_SEQ_CST); }
inline unsigned __activemask()
{
    ::cuda_shim::Worker &w = *::cuda_shim::cur_worker;
    const ::cuda_shim::Warp &wp = w.warps[w.cur >> 5];
    return wp.exists & ~wp.exited;
}

namespace cuda_shim {
template <class T>
inline uint64_t to_bits(T v)
{
    static_assert(std::is_trivially_copyable<T>::value && (sizeof(T) == 4 || sizeof(T) == 8 || sizeof(T) == 2 ||
                                                           sizeof(T) == 1),
                  "warp shuffles take scalars of 1, 2, 4 or 8 bytes");
    uint64_t u = 0;
    memcpy(&u, &v, sizeof v);
    return u;
}
template <class T>
inline T from_bits(uint64_t u)
{
    T v;
    memcpy(&v, &u, sizeof v); /* the low bytes: x86-64 and AArch64 are little-endian */
    return v;
}
/* src: the lane (within the warp) to read, or -1 for the caller's own value. */
template <class T>
inline T shuffle(unsigned mask, T v, int src, const char *file, int line)
{
    Worker &w = *cur_worker;
    const uint64_t *slot = warp_collective(W_SHFL, mask, to_bits(v), file, line);
    if (src < 0) return v;
    const Warp &wp = w.warps[w.cur >> 5];
    if (!((mask & wp.exists) >> src & 1)) return from_bits<T>(~(uint64_t)0); /* poison */
    return from_bits<T>(slot[src]);
}
} /* namespace cuda_shim */

template <class T>
inline T __shfl_sync(unsigned mask, T v, int src, int width = 32, const char *file = __builtin_FILE(),
                     int line = __builtin_LINE())
{
    int lane = (int)(::cuda_shim::cur_worker->cur & 31);
    int s = (lane & ~(width - 1)) + (src & (width - 1));
    return ::cuda_shim::shuffle(mask, v, s, file, line);
}
template <class T>
inline T __shfl_xor_sync(unsigned mask, T v, int lane_mask, int width = 32, const char *file = __builtin_FILE(),
                         int line = __builtin_LINE())
{
    int lane = (int)(::cuda_shim::cur_worker->cur & 31);
    int s = lane ^ lane_mask;
    /* lanes may read earlier groups of `width`, not later ones */
    if (s >= (lane & ~(width - 1)) + width) s = -1;
    return ::cuda_shim::shuffle(mask, v, s, file, line);
}
template <class T>
inline T __shfl_down_sync(unsigned mask, T v, unsigned delta, int width = 32, const char *file = __builtin_FILE(),
                          int line = __builtin_LINE())
{
    int lane = (int)(::cuda_shim::cur_worker->cur & 31);
    int s = (lane & (width - 1)) + (int)delta < width ? lane + (int)delta : -1;
    return ::cuda_shim::shuffle(mask, v, s, file, line);
}
template <class T>
inline T __shfl_up_sync(unsigned mask, T v, unsigned delta, int width = 32, const char *file = __builtin_FILE(),
                        int line = __builtin_LINE())
{
    int lane = (int)(::cuda_shim::cur_worker->cur & 31);
    int s = (lane & (width - 1)) - (int)delta >= 0 ? lane - (int)delta : -1;
    return ::cuda_shim::shuffle(mask, v, s, file, line);
}
inline unsigned __ballot_sync(unsigned mask, int pred, const char *file = __builtin_FILE(),
                              int line = __builtin_LINE())
{
    ::cuda_shim::Worker &w = *::cuda_shim::cur_worker;
    const uint64_t *slot = ::cuda_shim::warp_collective(::cuda_shim::W_VOTE, mask, pred != 0, file, line);
    uint32_t need = mask & w.warps[w.cur >> 5].exists, r = 0;
    for (unsigned l = 0; l < 32; l++)
        if (need >> l & 1 && slot[l]) r |= 1u << l;
    return r;
}
inline int __any_sync(unsigned mask, int pred, const char *file = __builtin_FILE(), int line = __builtin_LINE())
{
    return __ballot_sync(mask, pred, file, line) != 0;
}
inline int __all_sync(unsigned mask, int pred, const char *file = __builtin_FILE(), int line = __builtin_LINE())
{
    ::cuda_shim::Worker &w = *::cuda_shim::cur_worker;
    uint32_t need = mask & w.warps[w.cur >> 5].exists;
    return __ballot_sync(mask, pred, file, line) == need;
}

/* ---- atomics (real atomics: blocks may run on several OS threads) ------ */
#define CUDA_SHIM_ATOMIC_INT(T) \
    inline T atomicAdd(T *p, T v) { return __atomic_fetch_add(p, v, __ATOMIC_RELAXED); } \
    inline T atomicExch(T *p, T v) { return __atomic_exchange_n(p, v, __ATOMIC_RELAXED); } \
    inline T atomicCAS(T *p, T cmp, T v) \
    { \
        __atomic_compare_exchange_n(p, &cmp, v, false, __ATOMIC_RELAXED, __ATOMIC_RELAXED); \
        return cmp; \
    }
CUDA_SHIM_ATOMIC_INT(int)
CUDA_SHIM_ATOMIC_INT(unsigned)
CUDA_SHIM_ATOMIC_INT(unsigned long long)
#undef CUDA_SHIM_ATOMIC_INT
#define CUDA_SHIM_ATOMIC_MINMAX(T, NAME, OP) \
    inline T NAME(T *p, T v) \
    { \
        T old = __atomic_load_n(p, __ATOMIC_RELAXED); \
        while (v OP old && !__atomic_compare_exchange_n(p, &old, v, false, __ATOMIC_RELAXED, __ATOMIC_RELAXED)) {} \
        return old; \
    }
CUDA_SHIM_ATOMIC_MINMAX(int, atomicMax, >)
CUDA_SHIM_ATOMIC_MINMAX(unsigned, atomicMax, >)
CUDA_SHIM_ATOMIC_MINMAX(int, atomicMin, <)
CUDA_SHIM_ATOMIC_MINMAX(unsigned, atomicMin, <)
#undef CUDA_SHIM_ATOMIC_MINMAX
/* Floating point: a compare-and-swap loop on the bits, as CUDA once did. */
template <class F, class U>
inline F cuda_shim_atomic_fadd(F *p, F v)
{
    U *q = reinterpret_cast<U *>(p), old = __atomic_load_n(q, __ATOMIC_RELAXED), nw;
    F f;
    do {
        memcpy(&f, &old, sizeof f);
        F s = f + v;
        memcpy(&nw, &s, sizeof nw);
    } while (!__atomic_compare_exchange_n(q, &old, nw, false, __ATOMIC_RELAXED, __ATOMIC_RELAXED));
    return f;
}
inline float atomicAdd(float *p, float v) { return cuda_shim_atomic_fadd<float, uint32_t>(p, v); }
inline double atomicAdd(double *p, double v) { return cuda_shim_atomic_fadd<double, uint64_t>(p, v); }
inline float atomicExch(float *p, float v)
{
    uint32_t o = __atomic_exchange_n(reinterpret_cast<uint32_t *>(p), cuda_shim::bits<uint32_t>(v), __ATOMIC_RELAXED);
    return cuda_shim::bits<float>(o);
}

/* ---- math and bit casts ------------------------------------------------ */
inline float rsqrtf(float x) { return 1.0f / sqrtf(x); }
inline float __expf(float x) { return expf(x); }
inline float __logf(float x) { return logf(x); }
inline float __fdividef(float a, float b) { return a / b; }
inline float __fmul_rn(float a, float b) { return a * b; }
inline float __fadd_rn(float a, float b) { return a + b; }
inline float __fmaf_rn(float a, float b, float c) { return fmaf(a, b, c); }
inline unsigned __float_as_uint(float f) { return cuda_shim::bits<unsigned>(f); }
inline float __uint_as_float(unsigned u) { return cuda_shim::bits<float>(u); }
inline int __float_as_int(float f) { return cuda_shim::bits<int>(f); }
inline float __int_as_float(int i) { return cuda_shim::bits<float>(i); }
inline long long __double_as_longlong(double d) { return cuda_shim::bits<long long>(d); }
inline double __longlong_as_double(long long i) { return cuda_shim::bits<double>(i); }
inline int __popc(unsigned x) { return __builtin_popcount(x); }
inline int __clz(int x) { return x ? __builtin_clz((unsigned)x) : 32; }
inline int __ffs(int x) { return __builtin_ffs(x); }
template <class T>
inline T __ldg(const T *p) { return *p; }
#define CUDA_SHIM_MINMAX(T) \
    inline T min(T a, T b) { return a < b ? a : b; } \
    inline T max(T a, T b) { return a > b ? a : b; }
CUDA_SHIM_MINMAX(int)
CUDA_SHIM_MINMAX(unsigned)
CUDA_SHIM_MINMAX(long long)
CUDA_SHIM_MINMAX(unsigned long long)
#undef CUDA_SHIM_MINMAX
inline float min(float a, float b) { return fminf(a, b); }
inline float max(float a, float b) { return fmaxf(a, b); }
inline double min(double a, double b) { return fmin(a, b); }
inline double max(double a, double b) { return fmax(a, b); }

#endif
