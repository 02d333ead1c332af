# args: --emit=cuda-kernels 'ij,*jk->ik' --fp8-params --dtype x0=f8e4m3
# >>> stdout
/* (the fixed prelude of templates/cuda_prelude.cuh.in is omitted: --emit=cuda shows it) */
/* Buffers (index: tensor, shape, dtype): */
/*   bufs[0]: x0 [D0, D1] f8e4m3 */
/*   bufs[1]: w_1 [D1, D2] f8e4m3 */
/*   bufs[2]: out [D0, D2] f8e4m3 */

/* k0: contract ij,jk->ik
 *     from: ij,*jk->ik
 *     at <expr>:1:1
 *     out = x0:f8e4m3, w_1:f8e4m3 -> f8e4m3, accumulate f32
 *     launch: grid (d0*d2/256, 1, 1), block (256, 1, 1), shared 0 bytes: a grid-stride loop over D0 * D2 output elements, one per thread */
extern "C" __global__ void k0(UeajDims dims, const uint8_t *__restrict__ a0, const uint8_t *__restrict__ a1, uint8_t *__restrict__ out)
{
    const int64_t D0 = dims.d[0]; /* i */
    const int64_t D1 = dims.d[1]; /* j */
    const int64_t D2 = dims.d[2]; /* k */
    const int64_t stride_ = (int64_t)blockDim.x * gridDim.x;
    for (int64_t i_ = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i_ < D0 * D2; i_ += stride_) {
        const int64_t i_i = i_ / D2;
        const int64_t i_k = i_ % D2;
        float acc = -0.0f; /* -0, the identity of +: keeps the sign of a lone -0 */
        for (int64_t i_j = 0; i_j < D1; i_j++) {
            acc = fmaf(ld_f8e4m3(a0[i_i * D1 + i_j]), ld_f8e4m3(a1[i_j * D2 + i_k]), acc);
        }
        out[i_i * D2 + i_k] = st_f8e4m3(acc);
    }
}

/* The launch plan (runtime/cuda_plan.h, format 1): the tensors, then the steps in order. */
extern "C" __device__ const char ueaj_plan[] =
    "ueajc-plan 1\n"
    "dims 3 i j k\n"
    "tensor 0 x0 input f8e4m3 2 d0 d1\n"
    "tensor 1 w_1 param f8e4m3 2 d1 d2\n"
    "tensor 2 out output f8e4m3 2 d0 d2\n"
    "launch k0 d0*d2/256 1 1 256 1 1 0 3 0 1 2\n"
    "end\n"
    ;
