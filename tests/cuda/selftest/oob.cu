/* oob.cu - BROKEN ON PURPOSE: the grid is rounded up to whole blocks but
 * the kernel has no `if (i < n)`, so the last block reads and writes past
 * both buffers.  Under AddressSanitizer the run must fail with a report
 * naming the OOB-LINE below; without it the test is skipped. */
#include "ueaj_prelude.cuh"

extern "C" __global__ void scale2(UeajDims dims, const float *__restrict__ x, float *__restrict__ y)
{
    const long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    (void)dims; /* dims.d[0] = n is ignored: that is the bug */
    y[i] = 2.0f * x[i]; /* OOB-LINE */
}
