# args: "$DIR/fuse.ue" --emit=cuda-kernels
# >>> stdout
/* (the fixed prelude of templates/cuda_prelude.cuh.in is omitted: --emit=cuda shows it) */
/* Buffers (index: tensor, shape, dtype): */
/*   bufs[0]: a [D0, 16] f32 */
/*   bufs[1]: b [D0, 16] f32 */
/*   bufs[2]: c [D0, 16] f32 */
/*   bufs[3]: w [16, 16] bf16 */
/*   bufs[4]: g [D0, 16] f32 */
/*   bufs[5]: t10 [D0, 16] f32 */
/*   bufs[6]: y [D0, 16] f32 */
/*   bufs[7]: t [D0, 16] f32 */
/*   bufs[8]: z [D0, 16] f32 */

/* k0: fused
 *     per element, g = the last of: f0 = 0.5 * c; f1 = silu(a); f2 = f1 * b; f3 = f2 + f0
 *     at tests/cases/fuse.ue:9:5
 *     g = c:f32, a:f32, b:f32 -> f32
 *     launch: grid (2*d0/256, 1, 1), block (256, 1, 1), shared 0 bytes: a grid-stride loop over D0 * 2 groups of 8 consecutive elements, one per thread (vector loads and stores) */
extern "C" __global__ void k0(UeajDims dims, const float *__restrict__ a0, const float *__restrict__ a1, const float *__restrict__ a2, float *__restrict__ out)
{
    const int64_t D0 = dims.d[0]; /* n */
    const int64_t stride_ = (int64_t)blockDim.x * gridDim.x;
    for (int64_t i_ = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i_ < D0 * 2; i_ += stride_) {
        const int64_t i_v = i_;
        float x0_[8], x1_[8], x2_[8], o_[8];
        ldv8_f32(a0 + i_v * 8, x0_);
        ldv8_f32(a1 + i_v * 8, x1_);
        ldv8_f32(a2 + i_v * 8, x2_);
        for (int l_ = 0; l_ < 8; l_++) {
            const float x0 = x0_[l_];
            const float x1 = x1_[l_];
            const float x2 = x2_[l_];
            const float f0 = x0 * 0.5f;
            const float f1 = x1 / (1.0f + expf(-x1));
            const float f2 = f1 * x2;
            const float f3 = f2 + f0;
            o_[l_] = f3;
        }
        stv8_f32(out + i_v * 8, o_);
    }
}

/* k1: fused
 *     per element, t10 = the last of: f0 = exp(a); f1 = f0 * f0; f2 = g - f1
 *     at tests/cases/fuse.ue:12:27
 *     t10 = a:f32, g:f32 -> f32
 *     launch: grid (2*d0/256, 1, 1), block (256, 1, 1), shared 0 bytes: a grid-stride loop over D0 * 2 groups of 8 consecutive elements, one per thread (vector loads and stores)
 *     also stores t10.bf16: t10 rounded to bf16 for a cuBLASLt matmul (no cast kernel) */
extern "C" __global__ void k1(UeajDims dims, const float *__restrict__ a0, const float *__restrict__ a1, float *__restrict__ out, uint16_t *__restrict__ outc)
{
    const int64_t D0 = dims.d[0]; /* n */
    const int64_t stride_ = (int64_t)blockDim.x * gridDim.x;
    for (int64_t i_ = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i_ < D0 * 2; i_ += stride_) {
        const int64_t i_v = i_;
        float x0_[8], x1_[8], o_[8];
        ldv8_f32(a0 + i_v * 8, x0_);
        ldv8_f32(a1 + i_v * 8, x1_);
        for (int l_ = 0; l_ < 8; l_++) {
            const float x0 = x0_[l_];
            const float x1 = x1_[l_];
            const float f0 = expf(x0);
            const float f1 = f0 * f0;
            const float f2 = x1 - f1;
            o_[l_] = f2;
        }
        stv8_f32(out + i_v * 8, o_);
        stv8_bf16(outc + i_v * 8, o_);
    }
}

/* k2: contract nd,de->ne: no kernel, a cuBLASLt matmul (the plan's gemm record)
 *     B is t10 rounded to bf16 (cuBLASLt wants A and B of one type): the products differ from
 *     the C backend's by that rounding, and cuBLASLt sums in its own order: compare with a tolerance
 *     from: ueajsum("nd,*de->ne")
 *     at tests/cases/fuse.ue:12:14
 *     y = t10:f32 . w:bf16 -> f32, accumulate f32
 *     column-major: D[m=16, n=d0] = A[m, k=16] . B[k, n], A = w, B = t10 (its rounded copy), batch 1 */

/* k3: relu
 *     from: relu(y)
 *     at tests/cases/fuse.ue:13:5
 *     t = y:f32 -> f32
 *     launch: grid (2*d0/256, 1, 1), block (256, 1, 1), shared 0 bytes: a grid-stride loop over D0 * 2 groups of 8 consecutive elements, one per thread (vector loads and stores) */
extern "C" __global__ void k3(UeajDims dims, const float *__restrict__ a0, float *__restrict__ out)
{
    const int64_t D0 = dims.d[0]; /* n */
    const int64_t stride_ = (int64_t)blockDim.x * gridDim.x;
    for (int64_t i_ = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i_ < D0 * 2; i_ += stride_) {
        const int64_t i_v = i_;
        float x0_[8], o_[8];
        ldv8_f32(a0 + i_v * 8, x0_);
        for (int l_ = 0; l_ < 8; l_++) {
            const float x0 = x0_[l_];
            const float f0 = x0 > 0.0f ? x0 : 0.0f;
            o_[l_] = f0;
        }
        stv8_f32(out + i_v * 8, o_);
    }
}

/* k4: mulc
 *     at tests/cases/fuse.ue:16:5
 *     z = g:f32 -> f32
 *     launch: grid (2*d0/256, 1, 1), block (256, 1, 1), shared 0 bytes: a grid-stride loop over D0 * 2 groups of 8 consecutive elements, one per thread (vector loads and stores) */
extern "C" __global__ void k4(UeajDims dims, const float *__restrict__ a0, float *__restrict__ out)
{
    const int64_t D0 = dims.d[0]; /* n */
    const int64_t stride_ = (int64_t)blockDim.x * gridDim.x;
    for (int64_t i_ = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i_ < D0 * 2; i_ += stride_) {
        const int64_t i_v = i_;
        float x0_[8], o_[8];
        ldv8_f32(a0 + i_v * 8, x0_);
        for (int l_ = 0; l_ < 8; l_++) {
            const float x0 = x0_[l_];
            const float f0 = x0 * 2.0f;
            o_[l_] = f0;
        }
        stv8_f32(out + i_v * 8, o_);
    }
}

/* The launch plan (runtime/cuda_plan.h, format 1): the tensors, then the steps in order. */
extern "C" __device__ const char ueaj_plan[] =
    "ueajc-plan 1\n"
    "dims 1 n\n"
    "tensor 0 a input f32 2 d0 16\n"
    "tensor 1 b input f32 2 d0 16\n"
    "tensor 2 c input f32 2 d0 16\n"
    "tensor 3 w param bf16 2 16 16\n"
    "load 3 w 2 16 16 perm 0 1\n"
    "tensor 4 g output f32 2 d0 16\n"
    "tensor 5 t10 temp f32 2 d0 16\n"
    "tensor 6 y temp f32 2 d0 16\n"
    "tensor 7 t output f32 2 d0 16\n"
    "tensor 8 z output f32 2 d0 16\n"
    "tensor 9 t10.bf16 temp bf16 2 d0 16\n"
    "share 6 5\n"
    "launch k0 2*d0/256 1 1 256 1 1 0 4 2 0 1 4\n"
    "launch k1 2*d0/256 1 1 256 1 1 0 4 0 4 5 9\n"
    "gemm k2/nd%2Cde-%3Ene a=3 b=9 d=6 ta=n tb=n m=16 n=d0 k=16 lda=16 ldb=16 ldd=16 batch=1 sa=0 sb=0 sd=0 atype=bf16 btype=bf16 dtype=f32 compute=f32 alpha=1.0 beta=0.0\n"
    "launch k3 2*d0/256 1 1 256 1 1 0 2 6 7\n"
    "launch k4 2*d0/256 1 1 256 1 1 0 2 4 8\n"
    "end\n"
    ;
