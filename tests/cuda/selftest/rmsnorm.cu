/* rmsnorm.cu - RMSNorm of f32 rows into bf16, one block of 256 threads per
 * row: strided sums of squares, a shared-memory tree reduction with a
 * barrier after every step, then the scaled, bf16-weighted elementwise
 * store.  dims.d[0] = rows, dims.d[1] = D (any size: the loops stride). */
#include "ueaj_prelude.cuh"

extern "C" __global__ void __launch_bounds__(256)
rmsnorm_bf16(UeajDims dims, const float *__restrict__ a0, const unsigned short *__restrict__ a1,
             unsigned short *__restrict__ out)
{
    __shared__ float red[256];
    const long long D = dims.d[1];
    const float *x = a0 + (long long)blockIdx.x * D;
    float s = 0.0f;
    for (long long i = threadIdx.x; i < D; i += blockDim.x) s = fmaf(x[i], x[i], s);
    red[threadIdx.x] = s;
    __syncthreads();
    for (unsigned k = blockDim.x / 2; k > 0; k >>= 1) {
        if (threadIdx.x < k) red[threadIdx.x] += red[threadIdx.x + k];
        __syncthreads();
    }
    const float inv = rsqrtf(red[0] / (float)D + 1e-5f);
    for (long long i = threadIdx.x; i < D; i += blockDim.x)
        out[(long long)blockIdx.x * D + i] = ueaj_f32_to_bf16(x[i] * inv * ueaj_bf16_to_f32(a1[i]));
}
