/* warp_ops.cu - the shim's own semantics against values the driver
 * computes independently: each lane of a 2-D block (32 x 2 x 2: four
 * warps, threadIdx.y and .z in the linear id) records __shfl_sync /
 * __shfl_up_sync / __shfl_down_sync / __shfl_xor_sync at widths 32, 16
 * and 8, __ballot_sync, __any_sync, __all_sync, __activemask and a
 * __syncwarp, plus a partial warp (a second launch with 48 threads).
 * out holds 16 ints per thread. */
#include "ueaj_prelude.cuh"

extern "C" __global__ void warp_ops(UeajDims dims, int *__restrict__ out)
{
    const int tid = threadIdx.x + blockDim.x * (threadIdx.y + blockDim.y * threadIdx.z);
    const int lane = tid % 32;
    const int v = 1000 * (int)blockIdx.x + tid;
    int *o = out + ((long long)blockIdx.x * blockDim.x * blockDim.y * blockDim.z + tid) * 16;
    o[0] = __shfl_sync(UEAJ_FULL_MASK, v, 5);
    o[1] = __shfl_sync(UEAJ_FULL_MASK, v, lane + 3, 16);
    o[2] = __shfl_up_sync(UEAJ_FULL_MASK, v, 3);
    o[3] = __shfl_up_sync(UEAJ_FULL_MASK, v, 3, 8);
    o[4] = __shfl_down_sync(UEAJ_FULL_MASK, v, 5);
    o[5] = __shfl_down_sync(UEAJ_FULL_MASK, v, 5, 16);
    o[6] = __shfl_xor_sync(UEAJ_FULL_MASK, v, 9);
    o[7] = __shfl_xor_sync(UEAJ_FULL_MASK, v, 9, 8);
    o[8] = (int)__ballot_sync(UEAJ_FULL_MASK, lane % 3 == 0);
    o[9] = __any_sync(UEAJ_FULL_MASK, lane == 7);
    o[10] = __all_sync(UEAJ_FULL_MASK, lane < 31);
    o[11] = __all_sync(UEAJ_FULL_MASK, lane < 32);
    o[12] = (int)__activemask();
    __syncwarp();
    const float f = __shfl_xor_sync(UEAJ_FULL_MASK, (float)v * 0.5f, 1);
    o[13] = (int)(f * 2.0f);
    const long long big = __shfl_down_sync(UEAJ_FULL_MASK, (long long)v << 33, 1);
    o[14] = (int)(big >> 33);
    o[15] = (int)dims.d[0];
}
