/* softmax.cu - a softmax per row with the row held in dynamic shared
 * memory: extern __shared__ holds D floats of the row, then blockDim.x
 * floats of reduction scratch (the launch passes (D + blockDim.x) * 4
 * bytes).  Block max, exponentials, block sum, normalise.
 * dims.d[0] = rows, dims.d[1] = D. */
#include "ueaj_prelude.cuh"

static __device__ float block_reduce(float *red, float v, int is_max)
{
    red[threadIdx.x] = v;
    __syncthreads();
    for (unsigned k = blockDim.x / 2; k > 0; k >>= 1) {
        if (threadIdx.x < k)
            red[threadIdx.x] = is_max ? fmaxf(red[threadIdx.x], red[threadIdx.x + k])
                                      : red[threadIdx.x] + red[threadIdx.x + k];
        __syncthreads();
    }
    float r = red[0];
    __syncthreads(); /* red is reused by the next reduction */
    return r;
}

extern "C" __global__ void softmax_rows(UeajDims dims, const float *__restrict__ x, float *__restrict__ y)
{
    extern __shared__ __align__(16) float smem[];
    const long long D = dims.d[1];
    float *row = smem, *red = smem + D;
    const float *xr = x + (long long)blockIdx.x * D;
    float m = UEAJ_NEG_INF;
    for (long long i = threadIdx.x; i < D; i += blockDim.x) {
        row[i] = xr[i];
        m = fmaxf(m, row[i]);
    }
    m = block_reduce(red, m, 1);
    float s = 0.0f;
    for (long long i = threadIdx.x; i < D; i += blockDim.x) {
        float e = __expf(row[i] - m);
        row[i] = e;
        s += e;
    }
    const float inv = __fdividef(1.0f, block_reduce(red, s, 0));
    for (long long i = threadIdx.x; i < D; i += blockDim.x) y[(long long)blockIdx.x * D + i] = row[i] * inv;
}
