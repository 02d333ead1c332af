/* oob.cu - BROKEN ON PURPOSE: the grid is rounded up to whole blocks but
 * scale2 has no `if (i < n)`, so the last block reads and writes past both
 * buffers; shared_oob overruns a __shared__ array.  Under AddressSanitizer
 * and UBSan the runs must fail with reports naming the OOB-LINE and
 * OOB-SHARED lines below; without them the tests are skipped. */
#include "ueaj_prelude.cuh"

extern "C" __global__ void scale2(UeajDims dims, const float *__restrict__ x, float *__restrict__ y)
{
    const long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    (void)dims; /* dims.d[0] = n is ignored: that is the bug */
    y[i] = 2.0f * x[i]; /* OOB-LINE */
}

/* The same mistake in static shared memory: sized for 128 threads,
 * launched with 256.  thread_local arrays get no ASan redzones, but
 * UBSan's bounds check knows the array's size. */
extern "C" __global__ void shared_oob(UeajDims dims, float *out)
{
    __shared__ float red[128];
    red[threadIdx.x] = (float)dims.d[0]; /* OOB-SHARED */
    __syncthreads();
    out[threadIdx.x] = red[threadIdx.x % 128];
}
