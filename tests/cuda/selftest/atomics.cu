/* atomics.cu - a 64-bin histogram through a shared-memory histogram
 * (atomicAdd on __shared__ unsigned) merged into global memory, a float
 * sum (warp shuffle, then one atomicAdd per warp), atomicMax, a count of
 * even values through __ballot_sync/__popc and atomicAdd on unsigned long
 * long, and atomicCAS / atomicExch on a flag.  dims.d[0] = n. */
#include "ueaj_prelude.cuh"

extern "C" __global__ void histogram(UeajDims dims, const int *__restrict__ v, unsigned *__restrict__ hist,
                                     float *__restrict__ sum, int *__restrict__ maxv,
                                     unsigned long long *__restrict__ evens, int *__restrict__ flags)
{
    __shared__ unsigned local[64];
    for (int i = threadIdx.x; i < 64; i += blockDim.x) local[i] = 0;
    __syncthreads();
    const long long n = dims.d[0];
    float part = 0.0f;
    int mx = -2147483647 - 1;
    unsigned ev = 0;
    /* every lane runs the same number of rounds, so the ballot has the full warp */
    const long long stride = (long long)gridDim.x * blockDim.x;
    for (long long base = (long long)blockIdx.x * blockDim.x; base < n; base += stride) {
        const long long i = base + threadIdx.x;
        const int x = i < n ? v[i] : 1;
        if (i < n) {
            atomicAdd(&local[x & 63], 1u);
            part += (float)x * 0.001f;
            mx = max(mx, x);
        }
        const unsigned b = __ballot_sync(UEAJ_FULL_MASK, (x & 1) == 0);
        if (threadIdx.x % 32 == 0) ev += __popc(b);
    }
    for (int off = 16; off > 0; off >>= 1) part += __shfl_down_sync(UEAJ_FULL_MASK, part, off);
    if (threadIdx.x % 32 == 0) {
        atomicAdd(sum, part);
        atomicAdd(evens, (unsigned long long)ev);
    }
    atomicMax(maxv, mx);
    __syncthreads();
    for (int i = threadIdx.x; i < 64; i += blockDim.x) atomicAdd(&hist[i], local[i]);
    if (threadIdx.x == 0) {
        atomicCAS(&flags[0], 0, (int)blockIdx.x + 1); /* the first block to get here wins */
        atomicExch(&flags[1], (int)blockIdx.x);       /* the last block to get here */
    }
}
