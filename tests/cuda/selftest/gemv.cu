/* gemv.cu - y = W x with f32 x, bf16 W (row-major R x K) and f32 y: one
 * warp per row, eight rows per 256-thread block, lanes striding along K,
 * then a butterfly of __shfl_xor_sync.  dims.d[0] = R, dims.d[1] = K.
 * Built into a shared object and launched by name (cuda_shim_launch). */
#include "ueaj_prelude.cuh"

extern "C" __global__ void __launch_bounds__(256)
gemv_f32_bf16(UeajDims dims, const float *__restrict__ x, const unsigned short *__restrict__ w,
              float *__restrict__ y)
{
    const long long R = dims.d[0], K = dims.d[1];
    const long long row = (long long)blockIdx.x * (blockDim.x / warpSize) + threadIdx.x / warpSize;
    const int lane = threadIdx.x % warpSize;
    if (row >= R) return; /* whole warps only */
    const unsigned short *wr = w + row * K;
    float acc = 0.0f;
    for (long long k = lane; k < K; k += warpSize) acc = fmaf(__ldg(&x[k]), ueaj_bf16_to_f32(__ldg(&wr[k])), acc);
    for (int off = 16; off > 0; off >>= 1) acc += __shfl_xor_sync(UEAJ_FULL_MASK, acc, off);
    if (lane == 0) y[row] = acc;
}
