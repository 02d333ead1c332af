# args: --emit=cuda-kernels 'ij,*w=jk + *b=k -> ik' --out-dtype bf16 --dim i=2 --dim j=3 --dim k=4
# >>> stdout
/* (the fixed prelude of templates/cuda_prelude.cuh.in is omitted: --emit=cuda shows it) */
/* Buffers (index: tensor, shape, dtype): */
/*   bufs[0]: x0 [2, 3] f32 */
/*   bufs[1]: w [3, 4] bf16 */
/*   bufs[2]: b [4] bf16 */
/*   bufs[3]: out [2, 4] bf16 */
/*   bufs[4]: t4 [2, 4] f32 */

/* k0_cast: cast
 *     from: term 1 (ij,*w=jk) of ij,*w=jk + *b=k -> ik: its operand x0 rounded to bf16 for cuBLASLt (A and B of one type)
 *     at <expr>:1:1
 *     x0.bf16 = x0:f32 -> bf16
 *     launch: grid (6/256, 1, 1), block (256, 1, 1), shared 0 bytes: a grid-stride loop over 2 * 3 output elements, one per thread */
extern "C" __global__ void k0_cast(UeajDims dims, const float *__restrict__ a0, uint16_t *__restrict__ out)
{
    const int64_t stride_ = (int64_t)blockDim.x * gridDim.x;
    for (int64_t i_ = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i_ < 2 * 3; i_ += stride_) {
        const int64_t i_a = i_ / 3;
        const int64_t i_b = i_ % 3;
        out[i_a * 3 + i_b] = st_bf16(ld_f32(a0[i_a * 3 + i_b]));
    }
}

/* k0: contract ij,jk->ik: no kernel, a cuBLASLt matmul (the plan's gemm record)
 *     B is x0 rounded to bf16 (cuBLASLt wants A and B of one type): the products differ from
 *     the C backend's by that rounding, and cuBLASLt sums in its own order: compare with a tolerance
 *     from: term 1 (ij,*w=jk) of ij,*w=jk + *b=k -> ik
 *     at <expr>:1:1
 *     t4 = x0:f32 . w:bf16 -> f32, accumulate f32
 *     column-major: D[m=4, n=2] = A[m, k=3] . B[k, n], A = w, B = x0 (its rounded copy), batch 1 */

/* k1: contract k->ik
 *     from: term 2 (*b=k) of ij,*w=jk + *b=k -> ik
 *     at <expr>:1:12
 *     t4 += b:bf16 -> f32, accumulate f32
 *     launch: grid (8/256, 1, 1), block (256, 1, 1), shared 0 bytes: a grid-stride loop over 2 * 4 output elements, one per thread */
extern "C" __global__ void k1(UeajDims dims, const uint16_t *__restrict__ a0, float *__restrict__ out)
{
    const int64_t stride_ = (int64_t)blockDim.x * gridDim.x;
    for (int64_t i_ = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i_ < 2 * 4; i_ += stride_) {
        const int64_t i_i = i_ / 4;
        const int64_t i_k = i_ % 4;
        float acc = -0.0f; /* -0, the identity of +: keeps the sign of a lone -0 */
        acc += ld_bf16(a0[i_k]);
        out[i_i * 4 + i_k] = st_f32(ld_f32(out[i_i * 4 + i_k]) + acc);
    }
}

/* k2: cast
 *     from: round the summed terms once to the result dtype
 *     at <expr>:1:20
 *     out = t4:f32 -> bf16
 *     launch: grid (1/256, 1, 1), block (256, 1, 1), shared 0 bytes: a grid-stride loop over 1 groups of 8 consecutive elements, one per thread (vector loads and stores) */
extern "C" __global__ void k2(UeajDims dims, const float *__restrict__ a0, uint16_t *__restrict__ out)
{
    const int64_t stride_ = (int64_t)blockDim.x * gridDim.x;
    for (int64_t i_ = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i_ < 1; i_ += stride_) {
        const int64_t i_v = i_;
        float v_[8];
        ldv8_f32(a0 + i_v * 8, v_);
        stv8_bf16(out + i_v * 8, v_);
    }
}

/* The launch plan (runtime/cuda_plan.h, format 1): the tensors, then the steps in order. */
extern "C" __device__ const char ueaj_plan[] =
    "ueajc-plan 1\n"
    "dims 0\n"
    "tensor 0 x0 input f32 2 2 3\n"
    "tensor 1 w param bf16 2 3 4\n"
    "tensor 2 b param bf16 1 4\n"
    "tensor 3 out output bf16 2 2 4\n"
    "tensor 4 t4 temp f32 2 2 4\n"
    "tensor 5 x0.bf16 temp bf16 2 2 3\n"
    "launch k0_cast 6/256 1 1 256 1 1 0 2 0 5\n"
    "gemm k0/ij%2Cjk-%3Eik a=1 b=5 d=4 ta=n tb=n m=4 n=2 k=3 lda=4 ldb=3 ldd=4 batch=1 sa=0 sb=0 sd=0 atype=bf16 btype=bf16 dtype=f32 compute=f32 alpha=1.0 beta=0.0\n"
    "launch k1 8/256 1 1 256 1 1 0 2 2 4\n"
    "launch k2 1/256 1 1 256 1 1 0 2 4 3\n"
    "end\n"
    ;
