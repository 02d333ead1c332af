# args: --emit=cuda-kernels 'ij,*jk->ik'
# >>> stdout
/* (the fixed prelude of templates/cuda_prelude.cuh.in is omitted: --emit=cuda shows it) */
/* Buffers (index: tensor, shape, dtype): */
/*   bufs[0]: x0 [D0, D1] f32 */
/*   bufs[1]: w_1 [D1, D2] bf16 */
/*   bufs[2]: out [D0, D2] f32 */

/* k0_cast: cast
 *     from: ij,*jk->ik: its operand x0 rounded to bf16 for cuBLASLt (A and B of one type)
 *     at <expr>:1:1
 *     x0.bf16 = x0:f32 -> bf16
 *     launch: grid (d0*d1/256, 1, 1), block (256, 1, 1), shared 0 bytes: a grid-stride loop over D0 * D1 output elements, one per thread */
extern "C" __global__ void k0_cast(UeajDims dims, const float *__restrict__ a0, uint16_t *__restrict__ out)
{
    const int64_t D0 = dims.d[0]; /* i */
    const int64_t D1 = dims.d[1]; /* j */
    const int64_t D2 = dims.d[2]; /* k */
    const int64_t stride_ = (int64_t)blockDim.x * gridDim.x;
    for (int64_t i_ = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i_ < D0 * D1; i_ += stride_) {
        const int64_t i_a = i_ / D1;
        const int64_t i_b = i_ % D1;
        out[i_a * D1 + i_b] = st_bf16(ld_f32(a0[i_a * D1 + i_b]));
    }
}

/* k0: contract ij,jk->ik: no kernel, a cuBLASLt matmul (the plan's gemm record)
 *     B is x0 rounded to bf16 (cuBLASLt wants A and B of one type): the products differ from
 *     the C backend's by that rounding, and cuBLASLt sums in its own order: compare with a tolerance
 *     from: ij,*jk->ik
 *     at <expr>:1:1
 *     out = x0:f32 . w_1:bf16 -> f32, accumulate f32
 *     column-major: D[m=d2, n=d0] = A[m, k=d1] . B[k, n], A = w_1, B = x0 (its rounded copy), batch 1 */

/* The launch plan (runtime/cuda_plan.h, format 1): the tensors, then the steps in order. */
extern "C" __device__ const char ueaj_plan[] =
    "ueajc-plan 1\n"
    "dims 3 i j k\n"
    "tensor 0 x0 input f32 2 d0 d1\n"
    "tensor 1 w_1 param bf16 2 d1 d2\n"
    "tensor 2 out output f32 2 d0 d2\n"
    "tensor 3 x0.bf16 temp bf16 2 d0 d1\n"
    "launch k0_cast d0*d1/256 1 1 256 1 1 0 2 0 3\n"
    "gemm k0/ij%2Cjk-%3Eik a=1 b=3 d=2 ta=n tb=n m=d2 n=d0 k=d1 lda=d2 ldb=d1 ldd=d2 batch=1 sa=0 sb=0 sd=0 atype=bf16 btype=bf16 dtype=f32 compute=f32 alpha=1.0 beta=0.0\n"
    "end\n"
    ;
