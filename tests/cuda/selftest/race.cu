/* race.cu - BROKEN ON PURPOSE: a block sum whose tree reduction starts
 * without the barrier after the stores into shared memory, next to the
 * correct kernel.  On a GPU the racy one is usually right; the shim runs
 * each thread until it blocks, so thread 0 adds red[128] before thread 128
 * has stored it, and the result is wrong every time.
 * dims.d[0] = rows, dims.d[1] = D; one 256-thread block per row. */
#include "ueaj_prelude.cuh"

template <int SYNC>
static __device__ void block_sum(UeajDims dims, const float *x, float *out)
{
    __shared__ float red[256];
    const long long D = dims.d[1];
    float s = 0.0f;
    for (long long i = threadIdx.x; i < D; i += blockDim.x) s += x[(long long)blockIdx.x * D + i];
    red[threadIdx.x] = s;
    if (SYNC) __syncthreads(); /* the racy kernel leaves this out */
    for (unsigned k = blockDim.x / 2; k > 0; k >>= 1) {
        if (threadIdx.x < k) red[threadIdx.x] += red[threadIdx.x + k];
        __syncthreads();
    }
    if (threadIdx.x == 0) out[blockIdx.x] = red[0];
}

extern "C" __global__ void block_sum_ok(UeajDims dims, const float *x, float *out) { block_sum<1>(dims, x, out); }
extern "C" __global__ void block_sum_racy(UeajDims dims, const float *x, float *out) { block_sum<0>(dims, x, out); }
