/* divergent.cu - BROKEN ON PURPOSE: barriers that not every thread of the
 * block reaches.  The shim must abort naming the source lines (the test
 * finds them by the BARRIER-* markers).
 *   divergent_barrier   threads 0..63 wait at BARRIER-A, the others reach
 *                       BARRIER-B: "divergent __syncthreads()", both lines
 *   early_exit_barrier  threads past n return before BARRIER-C
 *   shuffle_vs_barrier  half of warp 0 waits in a full-mask shuffle
 *                       (BARRIER-D), everyone else at BARRIER-E: deadlock */
#include "ueaj_prelude.cuh"

extern "C" __global__ void divergent_barrier(UeajDims dims, float *out)
{
    __shared__ float red[256];
    red[threadIdx.x] = (float)threadIdx.x;
    if (threadIdx.x < 64) {
        red[threadIdx.x] += 1.0f;
        __syncthreads(); /* BARRIER-A */
    }
    __syncthreads(); /* BARRIER-B */
    out[threadIdx.x] = red[(threadIdx.x + 1) % blockDim.x] + (float)dims.d[0];
}

extern "C" __global__ void early_exit_barrier(UeajDims dims, float *out)
{
    __shared__ float red[256];
    if ((long long)threadIdx.x >= dims.d[0]) return; /* wrong before a barrier */
    red[threadIdx.x] = (float)threadIdx.x;
    __syncthreads(); /* BARRIER-C */
    out[threadIdx.x] = red[dims.d[0] - 1 - threadIdx.x];
}

extern "C" __global__ void shuffle_vs_barrier(UeajDims dims, float *out)
{
    float v = (float)threadIdx.x;
    if (threadIdx.x < 16) v = __shfl_xor_sync(UEAJ_FULL_MASK, v, 1); /* BARRIER-D */
    __syncthreads(); /* BARRIER-E */
    out[threadIdx.x] = v + (float)dims.d[0];
}
