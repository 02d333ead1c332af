# args: models/llama.ue --config models/tiny-llama.json --emit=cuda-kernels
# >>> stdout
/* (the fixed prelude of templates/cuda_prelude.cuh.in is omitted: --emit=cuda shows it) */
/* Buffers (index: tensor, shape, dtype): */
/*   bufs[0]: tokens [D0] i32 */
/*   bufs[1]: pos [D0] i32 */
/*   bufs[2]: embed [256, 64] bf16 */
/*   bufs[3]: x [D0, 64] f32 */
/*   bufs[4]: attn_norm.0 [64] bf16 */
/*   bufs[5]: wq.0 [64, 2, 2, 16] bf16 */
/*   bufs[6]: wk.0 [64, 2, 16] bf16 */
/*   bufs[7]: wv.0 [64, 2, 16] bf16 */
/*   bufs[8]: wo.0 [2, 2, 16, 64] bf16 */
/*   bufs[9]: mlp_norm.0 [64] bf16 */
/*   bufs[10]: wg.0 [64, 160] bf16 */
/*   bufs[11]: wu.0 [64, 160] bf16 */
/*   bufs[12]: wd.0 [160, 64] bf16 */
/*   bufs[13]: kc.0 [D1, 2, 16] f32 */
/*   bufs[14]: vc.0 [D1, 2, 16] f32 */
/*   bufs[15]: h.0 [D0, 64] f32 */
/*   bufs[16]: q.0 [D0, 2, 2, 16] f32 */
/*   bufs[17]: kk.0 [D0, 2, 16] f32 */
/*   bufs[18]: vv.0 [D0, 2, 16] f32 */
/*   bufs[19]: qr.0 [D0, 2, 2, 16] f32 */
/*   bufs[20]: kr.0 [D0, 2, 16] f32 */
/*   bufs[21]: a.0 [D0, 2, 2, 16] f32 */
/*   bufs[22]: t22 [D0, 64] f32 */
/*   bufs[23]: x.0 [D0, 64] f32 */
/*   bufs[24]: hm.0 [D0, 64] f32 */
/*   bufs[25]: g.0 [D0, 160] f32 */
/*   bufs[26]: u.0 [D0, 160] f32 */
/*   bufs[27]: t28 [D0, 160] f32 */
/*   bufs[28]: t29 [D0, 64] f32 */
/*   bufs[29]: x.0_2 [D0, 64] f32 */
/*   bufs[30]: attn_norm.1 [64] bf16 */
/*   bufs[31]: wq.1 [64, 2, 2, 16] bf16 */
/*   bufs[32]: wk.1 [64, 2, 16] bf16 */
/*   bufs[33]: wv.1 [64, 2, 16] bf16 */
/*   bufs[34]: wo.1 [2, 2, 16, 64] bf16 */
/*   bufs[35]: mlp_norm.1 [64] bf16 */
/*   bufs[36]: wg.1 [64, 160] bf16 */
/*   bufs[37]: wu.1 [64, 160] bf16 */
/*   bufs[38]: wd.1 [160, 64] bf16 */
/*   bufs[39]: kc.1 [D1, 2, 16] f32 */
/*   bufs[40]: vc.1 [D1, 2, 16] f32 */
/*   bufs[41]: h.1 [D0, 64] f32 */
/*   bufs[42]: q.1 [D0, 2, 2, 16] f32 */
/*   bufs[43]: kk.1 [D0, 2, 16] f32 */
/*   bufs[44]: vv.1 [D0, 2, 16] f32 */
/*   bufs[45]: qr.1 [D0, 2, 2, 16] f32 */
/*   bufs[46]: kr.1 [D0, 2, 16] f32 */
/*   bufs[47]: a.1 [D0, 2, 2, 16] f32 */
/*   bufs[48]: t49 [D0, 64] f32 */
/*   bufs[49]: x.1 [D0, 64] f32 */
/*   bufs[50]: hm.1 [D0, 64] f32 */
/*   bufs[51]: g.1 [D0, 160] f32 */
/*   bufs[52]: u.1 [D0, 160] f32 */
/*   bufs[53]: t55 [D0, 160] f32 */
/*   bufs[54]: t56 [D0, 64] f32 */
/*   bufs[55]: x.1_2 [D0, 64] f32 */
/*   bufs[56]: norm [64] bf16 */
/*   bufs[57]: head [64, 256] bf16 */
/*   bufs[58]: t60 [D2, 64] f32 */
/*   bufs[59]: t61 [D2, 64] f32 */
/*   bufs[60]: logits [D2, 256] f32 */

/* k0: embedding
 *     from: embedding(embed, tokens)
 *     at models/llama.ue:40:5
 *     x = embed:bf16, tokens:i32 -> f32
 *     launch: grid (64*d0/256, 1, 1), block (256, 1, 1), shared 0 bytes: a grid-stride loop over D0 * 64 output elements, one per thread */
extern "C" __global__ void k0(UeajDims dims, const uint16_t *__restrict__ a0, const int32_t *__restrict__ a1, float *__restrict__ out)
{
    const int64_t D0 = dims.d[0]; /* n */
    const int64_t D1 = dims.d[1]; /* C */
    const int64_t D2 = dims.d[2]; /* m */
    const int64_t stride_ = (int64_t)blockDim.x * gridDim.x;
    for (int64_t i_ = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i_ < D0 * 64; i_ += stride_) {
        const int64_t i_n = i_ / 64;
        const int64_t i_i = i_ % 64;
        const int64_t id = a1[i_n];
        /* the runtime checks ids; an out-of-range id gives a zero row, never a wild read */
        out[i_n * 64 + i_i] = (id >= 0 && id < 256) ? ld_bf16(a0[id * 64 + i_i]) : 0.0f;
    }
}

/* k1: rms_norm
 *     from: rms_norm(x, attn_norm, eps = eps)
 *     at models/llama.ue:56:10
 *     h.0 = x:f32, attn_norm.0:bf16 -> f32
 *     launch: grid (d0, 1, 1), block (256, 1, 1), shared 0 bytes: a block per row of D0 rows, its threads share the row (block reduction)
 *     also stores h.0.bf16: h.0 rounded to bf16 for a cuBLASLt matmul (no cast kernel) */
extern "C" __global__ void k1(UeajDims dims, const float *__restrict__ a0, const uint16_t *__restrict__ a1, float *__restrict__ out, uint16_t *__restrict__ outc)
{
    const int64_t D0 = dims.d[0]; /* n */
    const int64_t D1 = dims.d[1]; /* C */
    const int64_t D2 = dims.d[2]; /* m */
    __shared__ float red_[32]; /* one partial result per warp */
    const int64_t t_ = threadIdx.x, nt_ = blockDim.x;
    for (int64_t i_r = blockIdx.x; i_r < D0; i_r += gridDim.x) {
        const float *xr = a0 + i_r * 64;
        float ss = 0.0f;
        for (int64_t i = t_; i < 64; i += nt_) {
            const float v = ld_f32(xr[i]);
            ss += v * v;
        }
        ss = ueaj_block_sum(ss, red_);
        const float r = 1.0f / sqrtf(ss / (float)64 + 1e-05f);
        for (int64_t i = t_; i < 64; i += nt_) {
            {
                const float o_ = ld_bf16(a1[i]) * (ld_f32(xr[i]) * r);
                out[i_r * 64 + i] = o_;
                outc[i_r * 64 + i] = st_bf16(o_);
            }
        }
    }
}

/* k2: contract nd,dhik->nhik: no kernel, a cuBLASLt matmul (the plan's gemm record)
 *     B is h.0 rounded to bf16 (cuBLASLt wants A and B of one type): the products differ from
 *     the C backend's by that rounding, and cuBLASLt sums in its own order: compare with a tolerance
 *     from: ueajsum("nd,*dhik->nhik")
 *     at models/llama.ue:57:19
 *     q.0 = h.0:f32 . wq.0:bf16 -> f32, accumulate f32
 *     column-major: D[m=64, n=d0] = A[m, k=64] . B[k, n], A = wq.0, B = h.0 (its rounded copy), batch 1 */

/* k3: contract nd,dhk->nhk: no kernel, a cuBLASLt matmul (the plan's gemm record)
 *     B is h.0 rounded to bf16 (cuBLASLt wants A and B of one type): the products differ from
 *     the C backend's by that rounding, and cuBLASLt sums in its own order: compare with a tolerance
 *     from: ueajsum("nd,*dhk->nhk")
 *     at models/llama.ue:58:19
 *     kk.0 = h.0:f32 . wk.0:bf16 -> f32, accumulate f32
 *     column-major: D[m=32, n=d0] = A[m, k=64] . B[k, n], A = wk.0, B = h.0 (its rounded copy), batch 1 */

/* k4: contract nd,dhk->nhk: no kernel, a cuBLASLt matmul (the plan's gemm record)
 *     B is h.0 rounded to bf16 (cuBLASLt wants A and B of one type): the products differ from
 *     the C backend's by that rounding, and cuBLASLt sums in its own order: compare with a tolerance
 *     from: ueajsum("nd,*dhk->nhk")
 *     at models/llama.ue:59:19
 *     vv.0 = h.0:f32 . wv.0:bf16 -> f32, accumulate f32
 *     column-major: D[m=32, n=d0] = A[m, k=64] . B[k, n], A = wv.0, B = h.0 (its rounded copy), batch 1 */

/* k5: rope
 *     from: rope
 *     at models/llama.ue:60:10
 *     qr.0 = q.0:f32, pos:i32 -> f32
 *     launch: grid (32*d0/256, 1, 1), block (256, 1, 1), shared 0 bytes: a grid-stride loop over D0 * 4 * 8 output elements, one per thread */
extern "C" __global__ void k5(UeajDims dims, const float *__restrict__ a0, const int32_t *__restrict__ a1, float *__restrict__ out)
{
    const int64_t D0 = dims.d[0]; /* n */
    const int64_t D1 = dims.d[1]; /* C */
    const int64_t D2 = dims.d[2]; /* m */
    static const float inv_freq[8] = {
        1.000000000e+00f,
        1.939227432e-01f,
        3.760603070e-02f,
        7.292664610e-03f,
        4.295567924e-04f,
        8.570255886e-06f,
        1.661967417e-06f,
        3.222932889e-07f,
    };
    const int64_t stride_ = (int64_t)blockDim.x * gridDim.x;
    for (int64_t i_ = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i_ < D0 * 4 * 8; i_ += stride_) {
        const int64_t i_n = i_ / (4 * 8);
        const int64_t i_h = i_ / 8 % 4;
        const int64_t i_j = i_ % 8;
        const float ang = (float)a1[i_n] * inv_freq[i_j];
        const float c = cosf(ang), s = sinf(ang);
        const int64_t o = (i_n * 4 + i_h) * 16 + i_j;
        const float x1 = ld_f32(a0[o]), x2 = ld_f32(a0[o + 8]);
        out[o] = x1 * c - x2 * s;
        out[o + 8] = x2 * c + x1 * s;
    }
}

/* k6: rope
 *     from: rope
 *     at models/llama.ue:62:10
 *     kr.0 = kk.0:f32, pos:i32 -> f32
 *     launch: grid (16*d0/256, 1, 1), block (256, 1, 1), shared 0 bytes: a grid-stride loop over D0 * 2 * 8 output elements, one per thread */
extern "C" __global__ void k6(UeajDims dims, const float *__restrict__ a0, const int32_t *__restrict__ a1, float *__restrict__ out)
{
    const int64_t D0 = dims.d[0]; /* n */
    const int64_t D1 = dims.d[1]; /* C */
    const int64_t D2 = dims.d[2]; /* m */
    static const float inv_freq[8] = {
        1.000000000e+00f,
        1.939227432e-01f,
        3.760603070e-02f,
        7.292664610e-03f,
        4.295567924e-04f,
        8.570255886e-06f,
        1.661967417e-06f,
        3.222932889e-07f,
    };
    const int64_t stride_ = (int64_t)blockDim.x * gridDim.x;
    for (int64_t i_ = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i_ < D0 * 2 * 8; i_ += stride_) {
        const int64_t i_n = i_ / (2 * 8);
        const int64_t i_h = i_ / 8 % 2;
        const int64_t i_j = i_ % 8;
        const float ang = (float)a1[i_n] * inv_freq[i_j];
        const float c = cosf(ang), s = sinf(ang);
        const int64_t o = (i_n * 2 + i_h) * 16 + i_j;
        const float x1 = ld_f32(a0[o]), x2 = ld_f32(a0[o + 8]);
        out[o] = x1 * c - x2 * s;
        out[o + 8] = x2 * c + x1 * s;
    }
}

/* k7: cache_write
 *     from: cache_write(kc, kr, pos)
 *     at models/llama.ue:64:10
 *     kc.0 = kr.0:f32, pos:i32 -> f32
 *     launch: grid (32*d0/256, 1, 1), block (256, 1, 1), shared 0 bytes: a grid-stride loop over D0 * 32 output elements, one per thread */
extern "C" __global__ void k7(UeajDims dims, const float *__restrict__ a0, const int32_t *__restrict__ a1, float *__restrict__ out)
{
    const int64_t D0 = dims.d[0]; /* n */
    const int64_t D1 = dims.d[1]; /* C */
    const int64_t D2 = dims.d[2]; /* m */
    const int64_t stride_ = (int64_t)blockDim.x * gridDim.x;
    for (int64_t i_ = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i_ < D0 * 32; i_ += stride_) {
        const int64_t i_n = i_ / 32;
        const int64_t i_i = i_ % 32;
        const int64_t p = a1[i_n];
        if (p < 0 || p >= D1) continue; /* the runtime checks positions; never write outside the cache */
        out[p * 32 + i_i] = st_f32(ld_f32(a0[i_n * 32 + i_i]));
    }
}

/* k8: cache_write
 *     from: cache_write(vc, vv, pos)
 *     at models/llama.ue:65:10
 *     vc.0 = vv.0:f32, pos:i32 -> f32
 *     launch: grid (32*d0/256, 1, 1), block (256, 1, 1), shared 0 bytes: a grid-stride loop over D0 * 32 output elements, one per thread */
extern "C" __global__ void k8(UeajDims dims, const float *__restrict__ a0, const int32_t *__restrict__ a1, float *__restrict__ out)
{
    const int64_t D0 = dims.d[0]; /* n */
    const int64_t D1 = dims.d[1]; /* C */
    const int64_t D2 = dims.d[2]; /* m */
    const int64_t stride_ = (int64_t)blockDim.x * gridDim.x;
    for (int64_t i_ = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i_ < D0 * 32; i_ += stride_) {
        const int64_t i_n = i_ / 32;
        const int64_t i_i = i_ % 32;
        const int64_t p = a1[i_n];
        if (p < 0 || p >= D1) continue; /* the runtime checks positions; never write outside the cache */
        out[p * 32 + i_i] = st_f32(ld_f32(a0[i_n * 32 + i_i]));
    }
}

/* k9: attention
 *     from: attention(qr, kc, vc, causal = true, pos = pos)
 *     at models/llama.ue:68:10
 *     a.0 = qr.0:f32, kc.0:f32, vc.0:f32, pos:i32 -> f32
 *     launch: grid (4*d0, 1, 1), block (256, 1, 1), shared 0 bytes: a block per row of D0 * 4 rows, its threads share the row (block reduction)
 *     also stores a.0.bf16: a.0 rounded to bf16 for a cuBLASLt matmul (no cast kernel) */
extern "C" __global__ void k9(UeajDims dims, const float *__restrict__ a0, const float *__restrict__ a1, const float *__restrict__ a2, const int32_t *__restrict__ a3, float *__restrict__ out, uint16_t *__restrict__ outc)
{
    const int64_t D0 = dims.d[0]; /* n */
    const int64_t D1 = dims.d[1]; /* C */
    const int64_t D2 = dims.d[2]; /* m */
    __shared__ float red_[32]; /* one partial result per warp */
    const int64_t t_ = threadIdx.x, nt_ = blockDim.x;
    for (int64_t i_r = blockIdx.x; i_r < D0 * 4; i_r += gridDim.x) {
        __shared__ float p_[256]; /* shared by the block */
        const int64_t i_n = i_r / 4, h = i_r % 4;
        const int64_t qpos = a3[i_n]; /* the query's position among the keys */
        const int64_t hi = qpos + 1 < D1 ? qpos + 1 : D1; /* causal: keys 0..qpos */
        const int64_t lo = 0;
        const int64_t g = h / 2; /* the KV head of query head h */
        const int64_t qo = (i_n * 4 + h) * 16;
        float mx = -3.402823466e38f;
        for (int64_t j = lo + t_; j < hi; j += nt_) {
            float s = 0;
            for (int64_t i = 0; i < 16; i++) s += ld_f32(a0[qo + i]) * ld_f32(a1[(j * 2 + g) * 16 + i]);
            s *= 0.25f;
            if (s > mx) mx = s;
        }
        mx = ueaj_block_max(mx, red_);
        float sum = 0, acc = 0;
        for (int64_t j0 = lo; j0 < hi; j0 += nt_) {
            const int64_t j = j0 + t_;
            float p = 0;
            if (j < hi) {
                float s = 0;
                for (int64_t i = 0; i < 16; i++) s += ld_f32(a0[qo + i]) * ld_f32(a1[(j * 2 + g) * 16 + i]);
                s *= 0.25f;
                p = expf(s - mx);
            }
            sum += p;
            p_[t_] = p;
            __syncthreads();
            const int64_t je = hi - j0 < nt_ ? hi - j0 : nt_;
            if (t_ < 16) for (int64_t jj = 0; jj < je; jj++) acc += p_[jj] * ld_f32(a2[((j0 + jj) * 2 + g) * 16 + t_]);
            __syncthreads();
        }
        sum = ueaj_block_sum(sum, red_);
        if (t_ < 16) {
            {
                const float o_ = sum > 0 ? acc / sum : 0.0f;
                out[(i_n * 4 + h) * 16 + t_] = o_;
                outc[(i_n * 4 + h) * 16 + t_] = st_bf16(o_);
            }
        }
    }
}

/* k10: contract nhik,hikd->nd: no kernel, a cuBLASLt matmul (the plan's gemm record)
 *     B is a.0 rounded to bf16 (cuBLASLt wants A and B of one type): the products differ from
 *     the C backend's by that rounding, and cuBLASLt sums in its own order: compare with a tolerance
 *     from: ueajsum("nhik,*hikd->nd")
 *     at models/llama.ue:69:23
 *     t22 = a.0:f32 . wo.0:bf16 -> f32, accumulate f32
 *     column-major: D[m=64, n=d0] = A[m, k=64] . B[k, n], A = wo.0, B = a.0 (its rounded copy), batch 1
 *     + C = x (the residual) in cuBLASLt's epilogue, D = x.0: the add k11 runs no kernel, and t22 is never stored */

/* k11: add: no kernel, the epilogue of the matmul before it (D = A.B + C) */

/* k12: rms_norm
 *     from: rms_norm(x, mlp_norm, eps = eps)
 *     at models/llama.ue:71:10
 *     hm.0 = x.0:f32, mlp_norm.0:bf16 -> f32
 *     launch: grid (d0, 1, 1), block (256, 1, 1), shared 0 bytes: a block per row of D0 rows, its threads share the row (block reduction)
 *     also stores hm.0.bf16: hm.0 rounded to bf16 for a cuBLASLt matmul (no cast kernel) */
extern "C" __global__ void k12(UeajDims dims, const float *__restrict__ a0, const uint16_t *__restrict__ a1, float *__restrict__ out, uint16_t *__restrict__ outc)
{
    const int64_t D0 = dims.d[0]; /* n */
    const int64_t D1 = dims.d[1]; /* C */
    const int64_t D2 = dims.d[2]; /* m */
    __shared__ float red_[32]; /* one partial result per warp */
    const int64_t t_ = threadIdx.x, nt_ = blockDim.x;
    for (int64_t i_r = blockIdx.x; i_r < D0; i_r += gridDim.x) {
        const float *xr = a0 + i_r * 64;
        float ss = 0.0f;
        for (int64_t i = t_; i < 64; i += nt_) {
            const float v = ld_f32(xr[i]);
            ss += v * v;
        }
        ss = ueaj_block_sum(ss, red_);
        const float r = 1.0f / sqrtf(ss / (float)64 + 1e-05f);
        for (int64_t i = t_; i < 64; i += nt_) {
            {
                const float o_ = ld_bf16(a1[i]) * (ld_f32(xr[i]) * r);
                out[i_r * 64 + i] = o_;
                outc[i_r * 64 + i] = st_bf16(o_);
            }
        }
    }
}

/* k13: contract nd,df->nf: no kernel, a cuBLASLt matmul (the plan's gemm record)
 *     B is hm.0 rounded to bf16 (cuBLASLt wants A and B of one type): the products differ from
 *     the C backend's by that rounding, and cuBLASLt sums in its own order: compare with a tolerance
 *     from: ueajsum("nd,*df->nf")
 *     at models/llama.ue:72:19
 *     g.0 = hm.0:f32 . wg.0:bf16 -> f32, accumulate f32
 *     column-major: D[m=160, n=d0] = A[m, k=64] . B[k, n], A = wg.0, B = hm.0 (its rounded copy), batch 1 */

/* k14: contract nd,df->nf: no kernel, a cuBLASLt matmul (the plan's gemm record)
 *     B is hm.0 rounded to bf16 (cuBLASLt wants A and B of one type): the products differ from
 *     the C backend's by that rounding, and cuBLASLt sums in its own order: compare with a tolerance
 *     from: ueajsum("nd,*df->nf")
 *     at models/llama.ue:73:19
 *     u.0 = hm.0:f32 . wu.0:bf16 -> f32, accumulate f32
 *     column-major: D[m=160, n=d0] = A[m, k=64] . B[k, n], A = wu.0, B = hm.0 (its rounded copy), batch 1 */

/* k15: fused
 *     per element, t28 = the last of: f0 = silu(g.0); f1 = f0 * u.0
 *     at models/llama.ue:74:36
 *     t28 = g.0:f32, u.0:f32 -> f32
 *     launch: grid (20*d0/256, 1, 1), block (256, 1, 1), shared 0 bytes: a grid-stride loop over D0 * 20 groups of 8 consecutive elements, one per thread (vector loads and stores)
 *     also stores t28.bf16: t28 rounded to bf16 for a cuBLASLt matmul (no cast kernel) */
extern "C" __global__ void k15(UeajDims dims, const float *__restrict__ a0, const float *__restrict__ a1, float *__restrict__ out, uint16_t *__restrict__ outc)
{
    const int64_t D0 = dims.d[0]; /* n */
    const int64_t D1 = dims.d[1]; /* C */
    const int64_t D2 = dims.d[2]; /* m */
    const int64_t stride_ = (int64_t)blockDim.x * gridDim.x;
    for (int64_t i_ = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i_ < D0 * 20; i_ += stride_) {
        const int64_t i_v = i_;
        float x0_[8], x1_[8], o_[8];
        ldv8_f32(a0 + i_v * 8, x0_);
        ldv8_f32(a1 + i_v * 8, x1_);
        for (int l_ = 0; l_ < 8; l_++) {
            const float x0 = x0_[l_];
            const float x1 = x1_[l_];
            const float f0 = x0 / (1.0f + expf(-x0));
            const float f1 = f0 * x1;
            o_[l_] = f1;
        }
        stv8_f32(out + i_v * 8, o_);
        stv8_bf16(outc + i_v * 8, o_);
    }
}

/* k16: contract nf,fd->nd: no kernel, a cuBLASLt matmul (the plan's gemm record)
 *     B is t28 rounded to bf16 (cuBLASLt wants A and B of one type): the products differ from
 *     the C backend's by that rounding, and cuBLASLt sums in its own order: compare with a tolerance
 *     from: ueajsum("nf,*fd->nd")
 *     at models/llama.ue:74:23
 *     t29 = t28:f32 . wd.0:bf16 -> f32, accumulate f32
 *     column-major: D[m=64, n=d0] = A[m, k=160] . B[k, n], A = wd.0, B = t28 (its rounded copy), batch 1
 *     + C = x.0 (the residual) in cuBLASLt's epilogue, D = x.0_2: the add k17 runs no kernel, and t29 is never stored */

/* k17: add: no kernel, the epilogue of the matmul before it (D = A.B + C) */

/* k18: rms_norm
 *     from: rms_norm(x, attn_norm, eps = eps)
 *     at models/llama.ue:56:10
 *     h.1 = x.0_2:f32, attn_norm.1:bf16 -> f32
 *     launch: grid (d0, 1, 1), block (256, 1, 1), shared 0 bytes: a block per row of D0 rows, its threads share the row (block reduction)
 *     also stores h.1.bf16: h.1 rounded to bf16 for a cuBLASLt matmul (no cast kernel) */
extern "C" __global__ void k18(UeajDims dims, const float *__restrict__ a0, const uint16_t *__restrict__ a1, float *__restrict__ out, uint16_t *__restrict__ outc)
{
    const int64_t D0 = dims.d[0]; /* n */
    const int64_t D1 = dims.d[1]; /* C */
    const int64_t D2 = dims.d[2]; /* m */
    __shared__ float red_[32]; /* one partial result per warp */
    const int64_t t_ = threadIdx.x, nt_ = blockDim.x;
    for (int64_t i_r = blockIdx.x; i_r < D0; i_r += gridDim.x) {
        const float *xr = a0 + i_r * 64;
        float ss = 0.0f;
        for (int64_t i = t_; i < 64; i += nt_) {
            const float v = ld_f32(xr[i]);
            ss += v * v;
        }
        ss = ueaj_block_sum(ss, red_);
        const float r = 1.0f / sqrtf(ss / (float)64 + 1e-05f);
        for (int64_t i = t_; i < 64; i += nt_) {
            {
                const float o_ = ld_bf16(a1[i]) * (ld_f32(xr[i]) * r);
                out[i_r * 64 + i] = o_;
                outc[i_r * 64 + i] = st_bf16(o_);
            }
        }
    }
}

/* k19: contract nd,dhik->nhik: no kernel, a cuBLASLt matmul (the plan's gemm record)
 *     B is h.1 rounded to bf16 (cuBLASLt wants A and B of one type): the products differ from
 *     the C backend's by that rounding, and cuBLASLt sums in its own order: compare with a tolerance
 *     from: ueajsum("nd,*dhik->nhik")
 *     at models/llama.ue:57:19
 *     q.1 = h.1:f32 . wq.1:bf16 -> f32, accumulate f32
 *     column-major: D[m=64, n=d0] = A[m, k=64] . B[k, n], A = wq.1, B = h.1 (its rounded copy), batch 1 */

/* k20: contract nd,dhk->nhk: no kernel, a cuBLASLt matmul (the plan's gemm record)
 *     B is h.1 rounded to bf16 (cuBLASLt wants A and B of one type): the products differ from
 *     the C backend's by that rounding, and cuBLASLt sums in its own order: compare with a tolerance
 *     from: ueajsum("nd,*dhk->nhk")
 *     at models/llama.ue:58:19
 *     kk.1 = h.1:f32 . wk.1:bf16 -> f32, accumulate f32
 *     column-major: D[m=32, n=d0] = A[m, k=64] . B[k, n], A = wk.1, B = h.1 (its rounded copy), batch 1 */

/* k21: contract nd,dhk->nhk: no kernel, a cuBLASLt matmul (the plan's gemm record)
 *     B is h.1 rounded to bf16 (cuBLASLt wants A and B of one type): the products differ from
 *     the C backend's by that rounding, and cuBLASLt sums in its own order: compare with a tolerance
 *     from: ueajsum("nd,*dhk->nhk")
 *     at models/llama.ue:59:19
 *     vv.1 = h.1:f32 . wv.1:bf16 -> f32, accumulate f32
 *     column-major: D[m=32, n=d0] = A[m, k=64] . B[k, n], A = wv.1, B = h.1 (its rounded copy), batch 1 */

/* k22: rope
 *     from: rope
 *     at models/llama.ue:60:10
 *     qr.1 = q.1:f32, pos:i32 -> f32
 *     launch: grid (32*d0/256, 1, 1), block (256, 1, 1), shared 0 bytes: a grid-stride loop over D0 * 4 * 8 output elements, one per thread */
extern "C" __global__ void k22(UeajDims dims, const float *__restrict__ a0, const int32_t *__restrict__ a1, float *__restrict__ out)
{
    const int64_t D0 = dims.d[0]; /* n */
    const int64_t D1 = dims.d[1]; /* C */
    const int64_t D2 = dims.d[2]; /* m */
    static const float inv_freq[8] = {
        1.000000000e+00f,
        1.939227432e-01f,
        3.760603070e-02f,
        7.292664610e-03f,
        4.295567924e-04f,
        8.570255886e-06f,
        1.661967417e-06f,
        3.222932889e-07f,
    };
    const int64_t stride_ = (int64_t)blockDim.x * gridDim.x;
    for (int64_t i_ = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i_ < D0 * 4 * 8; i_ += stride_) {
        const int64_t i_n = i_ / (4 * 8);
        const int64_t i_h = i_ / 8 % 4;
        const int64_t i_j = i_ % 8;
        const float ang = (float)a1[i_n] * inv_freq[i_j];
        const float c = cosf(ang), s = sinf(ang);
        const int64_t o = (i_n * 4 + i_h) * 16 + i_j;
        const float x1 = ld_f32(a0[o]), x2 = ld_f32(a0[o + 8]);
        out[o] = x1 * c - x2 * s;
        out[o + 8] = x2 * c + x1 * s;
    }
}

/* k23: rope
 *     from: rope
 *     at models/llama.ue:62:10
 *     kr.1 = kk.1:f32, pos:i32 -> f32
 *     launch: grid (16*d0/256, 1, 1), block (256, 1, 1), shared 0 bytes: a grid-stride loop over D0 * 2 * 8 output elements, one per thread */
extern "C" __global__ void k23(UeajDims dims, const float *__restrict__ a0, const int32_t *__restrict__ a1, float *__restrict__ out)
{
    const int64_t D0 = dims.d[0]; /* n */
    const int64_t D1 = dims.d[1]; /* C */
    const int64_t D2 = dims.d[2]; /* m */
    static const float inv_freq[8] = {
        1.000000000e+00f,
        1.939227432e-01f,
        3.760603070e-02f,
        7.292664610e-03f,
        4.295567924e-04f,
        8.570255886e-06f,
        1.661967417e-06f,
        3.222932889e-07f,
    };
    const int64_t stride_ = (int64_t)blockDim.x * gridDim.x;
    for (int64_t i_ = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i_ < D0 * 2 * 8; i_ += stride_) {
        const int64_t i_n = i_ / (2 * 8);
        const int64_t i_h = i_ / 8 % 2;
        const int64_t i_j = i_ % 8;
        const float ang = (float)a1[i_n] * inv_freq[i_j];
        const float c = cosf(ang), s = sinf(ang);
        const int64_t o = (i_n * 2 + i_h) * 16 + i_j;
        const float x1 = ld_f32(a0[o]), x2 = ld_f32(a0[o + 8]);
        out[o] = x1 * c - x2 * s;
        out[o + 8] = x2 * c + x1 * s;
    }
}

/* k24: cache_write
 *     from: cache_write(kc, kr, pos)
 *     at models/llama.ue:64:10
 *     kc.1 = kr.1:f32, pos:i32 -> f32
 *     launch: grid (32*d0/256, 1, 1), block (256, 1, 1), shared 0 bytes: a grid-stride loop over D0 * 32 output elements, one per thread */
extern "C" __global__ void k24(UeajDims dims, const float *__restrict__ a0, const int32_t *__restrict__ a1, float *__restrict__ out)
{
    const int64_t D0 = dims.d[0]; /* n */
    const int64_t D1 = dims.d[1]; /* C */
    const int64_t D2 = dims.d[2]; /* m */
    const int64_t stride_ = (int64_t)blockDim.x * gridDim.x;
    for (int64_t i_ = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i_ < D0 * 32; i_ += stride_) {
        const int64_t i_n = i_ / 32;
        const int64_t i_i = i_ % 32;
        const int64_t p = a1[i_n];
        if (p < 0 || p >= D1) continue; /* the runtime checks positions; never write outside the cache */
        out[p * 32 + i_i] = st_f32(ld_f32(a0[i_n * 32 + i_i]));
    }
}

/* k25: cache_write
 *     from: cache_write(vc, vv, pos)
 *     at models/llama.ue:65:10
 *     vc.1 = vv.1:f32, pos:i32 -> f32
 *     launch: grid (32*d0/256, 1, 1), block (256, 1, 1), shared 0 bytes: a grid-stride loop over D0 * 32 output elements, one per thread */
extern "C" __global__ void k25(UeajDims dims, const float *__restrict__ a0, const int32_t *__restrict__ a1, float *__restrict__ out)
{
    const int64_t D0 = dims.d[0]; /* n */
    const int64_t D1 = dims.d[1]; /* C */
    const int64_t D2 = dims.d[2]; /* m */
    const int64_t stride_ = (int64_t)blockDim.x * gridDim.x;
    for (int64_t i_ = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i_ < D0 * 32; i_ += stride_) {
        const int64_t i_n = i_ / 32;
        const int64_t i_i = i_ % 32;
        const int64_t p = a1[i_n];
        if (p < 0 || p >= D1) continue; /* the runtime checks positions; never write outside the cache */
        out[p * 32 + i_i] = st_f32(ld_f32(a0[i_n * 32 + i_i]));
    }
}

/* k26: attention
 *     from: attention(qr, kc, vc, causal = true, pos = pos)
 *     at models/llama.ue:68:10
 *     a.1 = qr.1:f32, kc.1:f32, vc.1:f32, pos:i32 -> f32
 *     launch: grid (4*d0, 1, 1), block (256, 1, 1), shared 0 bytes: a block per row of D0 * 4 rows, its threads share the row (block reduction)
 *     also stores a.1.bf16: a.1 rounded to bf16 for a cuBLASLt matmul (no cast kernel) */
extern "C" __global__ void k26(UeajDims dims, const float *__restrict__ a0, const float *__restrict__ a1, const float *__restrict__ a2, const int32_t *__restrict__ a3, float *__restrict__ out, uint16_t *__restrict__ outc)
{
    const int64_t D0 = dims.d[0]; /* n */
    const int64_t D1 = dims.d[1]; /* C */
    const int64_t D2 = dims.d[2]; /* m */
    __shared__ float red_[32]; /* one partial result per warp */
    const int64_t t_ = threadIdx.x, nt_ = blockDim.x;
    for (int64_t i_r = blockIdx.x; i_r < D0 * 4; i_r += gridDim.x) {
        __shared__ float p_[256]; /* shared by the block */
        const int64_t i_n = i_r / 4, h = i_r % 4;
        const int64_t qpos = a3[i_n]; /* the query's position among the keys */
        const int64_t hi = qpos + 1 < D1 ? qpos + 1 : D1; /* causal: keys 0..qpos */
        const int64_t lo = 0;
        const int64_t g = h / 2; /* the KV head of query head h */
        const int64_t qo = (i_n * 4 + h) * 16;
        float mx = -3.402823466e38f;
        for (int64_t j = lo + t_; j < hi; j += nt_) {
            float s = 0;
            for (int64_t i = 0; i < 16; i++) s += ld_f32(a0[qo + i]) * ld_f32(a1[(j * 2 + g) * 16 + i]);
            s *= 0.25f;
            if (s > mx) mx = s;
        }
        mx = ueaj_block_max(mx, red_);
        float sum = 0, acc = 0;
        for (int64_t j0 = lo; j0 < hi; j0 += nt_) {
            const int64_t j = j0 + t_;
            float p = 0;
            if (j < hi) {
                float s = 0;
                for (int64_t i = 0; i < 16; i++) s += ld_f32(a0[qo + i]) * ld_f32(a1[(j * 2 + g) * 16 + i]);
                s *= 0.25f;
                p = expf(s - mx);
            }
            sum += p;
            p_[t_] = p;
            __syncthreads();
            const int64_t je = hi - j0 < nt_ ? hi - j0 : nt_;
            if (t_ < 16) for (int64_t jj = 0; jj < je; jj++) acc += p_[jj] * ld_f32(a2[((j0 + jj) * 2 + g) * 16 + t_]);
            __syncthreads();
        }
        sum = ueaj_block_sum(sum, red_);
        if (t_ < 16) {
            {
                const float o_ = sum > 0 ? acc / sum : 0.0f;
                out[(i_n * 4 + h) * 16 + t_] = o_;
                outc[(i_n * 4 + h) * 16 + t_] = st_bf16(o_);
            }
        }
    }
}

/* k27: contract nhik,hikd->nd: no kernel, a cuBLASLt matmul (the plan's gemm record)
 *     B is a.1 rounded to bf16 (cuBLASLt wants A and B of one type): the products differ from
 *     the C backend's by that rounding, and cuBLASLt sums in its own order: compare with a tolerance
 *     from: ueajsum("nhik,*hikd->nd")
 *     at models/llama.ue:69:23
 *     t49 = a.1:f32 . wo.1:bf16 -> f32, accumulate f32
 *     column-major: D[m=64, n=d0] = A[m, k=64] . B[k, n], A = wo.1, B = a.1 (its rounded copy), batch 1
 *     + C = x.0_2 (the residual) in cuBLASLt's epilogue, D = x.1: the add k28 runs no kernel, and t49 is never stored */

/* k28: add: no kernel, the epilogue of the matmul before it (D = A.B + C) */

/* k29: rms_norm
 *     from: rms_norm(x, mlp_norm, eps = eps)
 *     at models/llama.ue:71:10
 *     hm.1 = x.1:f32, mlp_norm.1:bf16 -> f32
 *     launch: grid (d0, 1, 1), block (256, 1, 1), shared 0 bytes: a block per row of D0 rows, its threads share the row (block reduction)
 *     also stores hm.1.bf16: hm.1 rounded to bf16 for a cuBLASLt matmul (no cast kernel) */
extern "C" __global__ void k29(UeajDims dims, const float *__restrict__ a0, const uint16_t *__restrict__ a1, float *__restrict__ out, uint16_t *__restrict__ outc)
{
    const int64_t D0 = dims.d[0]; /* n */
    const int64_t D1 = dims.d[1]; /* C */
    const int64_t D2 = dims.d[2]; /* m */
    __shared__ float red_[32]; /* one partial result per warp */
    const int64_t t_ = threadIdx.x, nt_ = blockDim.x;
    for (int64_t i_r = blockIdx.x; i_r < D0; i_r += gridDim.x) {
        const float *xr = a0 + i_r * 64;
        float ss = 0.0f;
        for (int64_t i = t_; i < 64; i += nt_) {
            const float v = ld_f32(xr[i]);
            ss += v * v;
        }
        ss = ueaj_block_sum(ss, red_);
        const float r = 1.0f / sqrtf(ss / (float)64 + 1e-05f);
        for (int64_t i = t_; i < 64; i += nt_) {
            {
                const float o_ = ld_bf16(a1[i]) * (ld_f32(xr[i]) * r);
                out[i_r * 64 + i] = o_;
                outc[i_r * 64 + i] = st_bf16(o_);
            }
        }
    }
}

/* k30: contract nd,df->nf: no kernel, a cuBLASLt matmul (the plan's gemm record)
 *     B is hm.1 rounded to bf16 (cuBLASLt wants A and B of one type): the products differ from
 *     the C backend's by that rounding, and cuBLASLt sums in its own order: compare with a tolerance
 *     from: ueajsum("nd,*df->nf")
 *     at models/llama.ue:72:19
 *     g.1 = hm.1:f32 . wg.1:bf16 -> f32, accumulate f32
 *     column-major: D[m=160, n=d0] = A[m, k=64] . B[k, n], A = wg.1, B = hm.1 (its rounded copy), batch 1 */

/* k31: contract nd,df->nf: no kernel, a cuBLASLt matmul (the plan's gemm record)
 *     B is hm.1 rounded to bf16 (cuBLASLt wants A and B of one type): the products differ from
 *     the C backend's by that rounding, and cuBLASLt sums in its own order: compare with a tolerance
 *     from: ueajsum("nd,*df->nf")
 *     at models/llama.ue:73:19
 *     u.1 = hm.1:f32 . wu.1:bf16 -> f32, accumulate f32
 *     column-major: D[m=160, n=d0] = A[m, k=64] . B[k, n], A = wu.1, B = hm.1 (its rounded copy), batch 1 */

/* k32: fused
 *     per element, t55 = the last of: f0 = silu(g.1); f1 = f0 * u.1
 *     at models/llama.ue:74:36
 *     t55 = g.1:f32, u.1:f32 -> f32
 *     launch: grid (20*d0/256, 1, 1), block (256, 1, 1), shared 0 bytes: a grid-stride loop over D0 * 20 groups of 8 consecutive elements, one per thread (vector loads and stores)
 *     also stores t55.bf16: t55 rounded to bf16 for a cuBLASLt matmul (no cast kernel) */
extern "C" __global__ void k32(UeajDims dims, const float *__restrict__ a0, const float *__restrict__ a1, float *__restrict__ out, uint16_t *__restrict__ outc)
{
    const int64_t D0 = dims.d[0]; /* n */
    const int64_t D1 = dims.d[1]; /* C */
    const int64_t D2 = dims.d[2]; /* m */
    const int64_t stride_ = (int64_t)blockDim.x * gridDim.x;
    for (int64_t i_ = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i_ < D0 * 20; i_ += stride_) {
        const int64_t i_v = i_;
        float x0_[8], x1_[8], o_[8];
        ldv8_f32(a0 + i_v * 8, x0_);
        ldv8_f32(a1 + i_v * 8, x1_);
        for (int l_ = 0; l_ < 8; l_++) {
            const float x0 = x0_[l_];
            const float x1 = x1_[l_];
            const float f0 = x0 / (1.0f + expf(-x0));
            const float f1 = f0 * x1;
            o_[l_] = f1;
        }
        stv8_f32(out + i_v * 8, o_);
        stv8_bf16(outc + i_v * 8, o_);
    }
}

/* k33: contract nf,fd->nd: no kernel, a cuBLASLt matmul (the plan's gemm record)
 *     B is t55 rounded to bf16 (cuBLASLt wants A and B of one type): the products differ from
 *     the C backend's by that rounding, and cuBLASLt sums in its own order: compare with a tolerance
 *     from: ueajsum("nf,*fd->nd")
 *     at models/llama.ue:74:23
 *     t56 = t55:f32 . wd.1:bf16 -> f32, accumulate f32
 *     column-major: D[m=64, n=d0] = A[m, k=160] . B[k, n], A = wd.1, B = t55 (its rounded copy), batch 1
 *     + C = x.1 (the residual) in cuBLASLt's epilogue, D = x.1_2: the add k34 runs no kernel, and t56 is never stored */

/* k34: add: no kernel, the epilogue of the matmul before it (D = A.B + C) */

/* k35: last_rows
 *     from: last_rows(x, m)
 *     at models/llama.ue:80:41
 *     t60 = x.1_2:f32 -> f32
 *     launch: grid (64*d2/256, 1, 1), block (256, 1, 1), shared 0 bytes: a grid-stride loop over D2 * 64 output elements, one per thread */
extern "C" __global__ void k35(UeajDims dims, const float *__restrict__ a0, float *__restrict__ out)
{
    const int64_t D0 = dims.d[0]; /* n */
    const int64_t D1 = dims.d[1]; /* C */
    const int64_t D2 = dims.d[2]; /* m */
    /* the runtime guarantees D2 <= D0 */
    const int64_t stride_ = (int64_t)blockDim.x * gridDim.x;
    for (int64_t i_ = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i_ < D2 * 64; i_ += stride_) {
        const int64_t i_m = i_ / 64;
        const int64_t i_i = i_ % 64;
        out[i_m * 64 + i_i] = ld_f32(a0[(D0 - D2 + i_m) * 64 + i_i]);
    }
}

/* k36: rms_norm
 *     from: rms_norm(last_rows(x, m), norm, eps = eps)
 *     at models/llama.ue:80:32
 *     t61 = t60:f32, norm:bf16 -> f32
 *     launch: grid (d2, 1, 1), block (256, 1, 1), shared 0 bytes: a block per row of D2 rows, its threads share the row (block reduction)
 *     also stores t61.bf16: t61 rounded to bf16 for a cuBLASLt matmul (no cast kernel) */
extern "C" __global__ void k36(UeajDims dims, const float *__restrict__ a0, const uint16_t *__restrict__ a1, float *__restrict__ out, uint16_t *__restrict__ outc)
{
    const int64_t D0 = dims.d[0]; /* n */
    const int64_t D1 = dims.d[1]; /* C */
    const int64_t D2 = dims.d[2]; /* m */
    __shared__ float red_[32]; /* one partial result per warp */
    const int64_t t_ = threadIdx.x, nt_ = blockDim.x;
    for (int64_t i_r = blockIdx.x; i_r < D2; i_r += gridDim.x) {
        const float *xr = a0 + i_r * 64;
        float ss = 0.0f;
        for (int64_t i = t_; i < 64; i += nt_) {
            const float v = ld_f32(xr[i]);
            ss += v * v;
        }
        ss = ueaj_block_sum(ss, red_);
        const float r = 1.0f / sqrtf(ss / (float)64 + 1e-05f);
        for (int64_t i = t_; i < 64; i += nt_) {
            {
                const float o_ = ld_bf16(a1[i]) * (ld_f32(xr[i]) * r);
                out[i_r * 64 + i] = o_;
                outc[i_r * 64 + i] = st_bf16(o_);
            }
        }
    }
}

/* k37: contract nd,dv->nv: no kernel, a cuBLASLt matmul (the plan's gemm record)
 *     B is t61 rounded to bf16 (cuBLASLt wants A and B of one type): the products differ from
 *     the C backend's by that rounding, and cuBLASLt sums in its own order: compare with a tolerance
 *     from: ueajsum("nd,*dv->nv")
 *     at models/llama.ue:80:19
 *     logits = t61:f32 . head:bf16 -> f32, accumulate f32
 *     column-major: D[m=256, n=d2] = A[m, k=64] . B[k, n], A = head, B = t61 (its rounded copy), batch 1 */

/* The launch plan (runtime/cuda_plan.h, format 1): the tensors, then the steps in order. */
extern "C" __device__ const char ueaj_plan[] =
    "ueajc-plan 1\n"
    "dims 3 n C m\n"
    "config hidden_size num 64\n"
    "config intermediate_size num 160\n"
    "config num_hidden_layers num 2\n"
    "config num_attention_heads num 4\n"
    "config num_key_value_heads num 2\n"
    "config head_dim num 16\n"
    "config vocab_size num 256\n"
    "config rms_norm_eps num 1.0000000000000001e-05\n"
    "config rope_parameters.rope_theta absent\n"
    "config rope_theta num 500000\n"
    "config tie_word_embeddings bool true\n"
    "config rope_parameters.rope_type absent\n"
    "config rope_scaling.rope_type str =llama3\n"
    "config rope_parameters.factor absent\n"
    "config rope_scaling.factor num 32\n"
    "config rope_parameters.low_freq_factor absent\n"
    "config rope_scaling.low_freq_factor num 1\n"
    "config rope_parameters.high_freq_factor absent\n"
    "config rope_scaling.high_freq_factor num 4\n"
    "config rope_parameters.original_max_position_embeddings absent\n"
    "config rope_scaling.original_max_position_embeddings num 8192\n"
    "config torch_dtype str =bfloat16\n"
    "tensor 0 tokens input i32 1 d0\n"
    "tensor 1 pos input i32 1 d0\n"
    "tensor 2 embed param bf16 2 256 64\n"
    "load 2 model.embed_tokens.weight 2 256 64 perm 0 1\n"
    "lookup 2\n"
    "tensor 3 x temp f32 2 d0 64\n"
    "tensor 4 attn_norm.0 param bf16 1 64\n"
    "load 4 model.layers.0.input_layernorm.weight 1 64 perm 0\n"
    "tensor 5 wq.0 param bf16 4 64 2 2 16\n"
    "load 5 model.layers.0.self_attn.q_proj.weight 2 64 64 perm 1 0\n"
    "tensor 6 wk.0 param bf16 3 64 2 16\n"
    "load 6 model.layers.0.self_attn.k_proj.weight 2 32 64 perm 1 0\n"
    "tensor 7 wv.0 param bf16 3 64 2 16\n"
    "load 7 model.layers.0.self_attn.v_proj.weight 2 32 64 perm 1 0\n"
    "tensor 8 wo.0 param bf16 4 2 2 16 64\n"
    "load 8 model.layers.0.self_attn.o_proj.weight 2 64 64 perm 1 0\n"
    "tensor 9 mlp_norm.0 param bf16 1 64\n"
    "load 9 model.layers.0.post_attention_layernorm.weight 1 64 perm 0\n"
    "tensor 10 wg.0 param bf16 2 64 160\n"
    "load 10 model.layers.0.mlp.gate_proj.weight 2 160 64 perm 1 0\n"
    "tensor 11 wu.0 param bf16 2 64 160\n"
    "load 11 model.layers.0.mlp.up_proj.weight 2 160 64 perm 1 0\n"
    "tensor 12 wd.0 param bf16 2 160 64\n"
    "load 12 model.layers.0.mlp.down_proj.weight 2 64 160 perm 1 0\n"
    "tensor 13 kc.0 state f32 3 d1 2 16\n"
    "tensor 14 vc.0 state f32 3 d1 2 16\n"
    "tensor 15 h.0 temp f32 2 d0 64\n"
    "tensor 16 q.0 temp f32 4 d0 2 2 16\n"
    "tensor 17 kk.0 temp f32 3 d0 2 16\n"
    "tensor 18 vv.0 temp f32 3 d0 2 16\n"
    "tensor 19 qr.0 temp f32 4 d0 2 2 16\n"
    "tensor 20 kr.0 temp f32 3 d0 2 16\n"
    "tensor 21 a.0 temp f32 4 d0 2 2 16\n"
    "tensor 22 t22 temp f32 2 d0 64\n"
    "tensor 23 x.0 temp f32 2 d0 64\n"
    "tensor 24 hm.0 temp f32 2 d0 64\n"
    "tensor 25 g.0 temp f32 2 d0 160\n"
    "tensor 26 u.0 temp f32 2 d0 160\n"
    "tensor 27 t28 temp f32 2 d0 160\n"
    "tensor 28 t29 temp f32 2 d0 64\n"
    "tensor 29 x.0_2 temp f32 2 d0 64\n"
    "tensor 30 attn_norm.1 param bf16 1 64\n"
    "load 30 model.layers.1.input_layernorm.weight 1 64 perm 0\n"
    "tensor 31 wq.1 param bf16 4 64 2 2 16\n"
    "load 31 model.layers.1.self_attn.q_proj.weight 2 64 64 perm 1 0\n"
    "tensor 32 wk.1 param bf16 3 64 2 16\n"
    "load 32 model.layers.1.self_attn.k_proj.weight 2 32 64 perm 1 0\n"
    "tensor 33 wv.1 param bf16 3 64 2 16\n"
    "load 33 model.layers.1.self_attn.v_proj.weight 2 32 64 perm 1 0\n"
    "tensor 34 wo.1 param bf16 4 2 2 16 64\n"
    "load 34 model.layers.1.self_attn.o_proj.weight 2 64 64 perm 1 0\n"
    "tensor 35 mlp_norm.1 param bf16 1 64\n"
    "load 35 model.layers.1.post_attention_layernorm.weight 1 64 perm 0\n"
    "tensor 36 wg.1 param bf16 2 64 160\n"
    "load 36 model.layers.1.mlp.gate_proj.weight 2 160 64 perm 1 0\n"
    "tensor 37 wu.1 param bf16 2 64 160\n"
    "load 37 model.layers.1.mlp.up_proj.weight 2 160 64 perm 1 0\n"
    "tensor 38 wd.1 param bf16 2 160 64\n"
    "load 38 model.layers.1.mlp.down_proj.weight 2 64 160 perm 1 0\n"
    "tensor 39 kc.1 state f32 3 d1 2 16\n"
    "tensor 40 vc.1 state f32 3 d1 2 16\n"
    "tensor 41 h.1 temp f32 2 d0 64\n"
    "tensor 42 q.1 temp f32 4 d0 2 2 16\n"
    "tensor 43 kk.1 temp f32 3 d0 2 16\n"
    "tensor 44 vv.1 temp f32 3 d0 2 16\n"
    "tensor 45 qr.1 temp f32 4 d0 2 2 16\n"
    "tensor 46 kr.1 temp f32 3 d0 2 16\n"
    "tensor 47 a.1 temp f32 4 d0 2 2 16\n"
    "tensor 48 t49 temp f32 2 d0 64\n"
    "tensor 49 x.1 temp f32 2 d0 64\n"
    "tensor 50 hm.1 temp f32 2 d0 64\n"
    "tensor 51 g.1 temp f32 2 d0 160\n"
    "tensor 52 u.1 temp f32 2 d0 160\n"
    "tensor 53 t55 temp f32 2 d0 160\n"
    "tensor 54 t56 temp f32 2 d0 64\n"
    "tensor 55 x.1_2 temp f32 2 d0 64\n"
    "tensor 56 norm param bf16 1 64\n"
    "load 56 model.norm.weight 1 64 perm 0\n"
    "tensor 57 head param bf16 2 64 256\n"
    "load 57 model.embed_tokens.weight 2 256 64 perm 1 0\n"
    "tensor 58 t60 temp f32 2 d2 64\n"
    "tensor 59 t61 temp f32 2 d2 64\n"
    "tensor 60 logits output f32 2 d2 256\n"
    "tensor 61 h.0.bf16 temp bf16 2 d0 64\n"
    "tensor 62 a.0.bf16 temp bf16 4 d0 2 2 16\n"
    "tensor 63 hm.0.bf16 temp bf16 2 d0 64\n"
    "tensor 64 t28.bf16 temp bf16 2 d0 160\n"
    "tensor 65 h.1.bf16 temp bf16 2 d0 64\n"
    "tensor 66 a.1.bf16 temp bf16 4 d0 2 2 16\n"
    "tensor 67 hm.1.bf16 temp bf16 2 d0 64\n"
    "tensor 68 t55.bf16 temp bf16 2 d0 160\n"
    "tensor 69 t61.bf16 temp bf16 2 d2 64\n"
    "share 16 15\n"
    "share 19 61\n"
    "share 20 15\n"
    "share 21 15\n"
    "share 23 15\n"
    "share 24 3\n"
    "share 25 3\n"
    "share 26 61\n"
    "share 27 17\n"
    "share 29 3\n"
    "share 41 15\n"
    "share 42 15\n"
    "share 43 61\n"
    "share 44 17\n"
    "share 45 18\n"
    "share 46 15\n"
    "share 47 15\n"
    "share 49 15\n"
    "share 50 3\n"
    "share 51 3\n"
    "share 52 17\n"
    "share 53 61\n"
    "share 55 3\n"
    "share 58 15\n"
    "share 59 18\n"
    "share 62 17\n"
    "share 63 17\n"
    "share 64 18\n"
    "share 65 18\n"
    "share 66 61\n"
    "share 67 61\n"
    "share 68 18\n"
    "share 69 3\n"
    "launch k0 64*d0/256 1 1 256 1 1 0 3 2 0 3\n"
    "launch k1 d0 1 1 256 1 1 0 4 3 4 15 61\n"
    "gemm k2/nd%2Cdhik-%3Enhik a=5 b=61 d=16 ta=n tb=n m=64 n=d0 k=64 lda=64 ldb=64 ldd=64 batch=1 sa=0 sb=0 sd=0 atype=bf16 btype=bf16 dtype=f32 compute=f32 alpha=1.0 beta=0.0\n"
    "gemm k3/nd%2Cdhk-%3Enhk a=6 b=61 d=17 ta=n tb=n m=32 n=d0 k=64 lda=32 ldb=64 ldd=32 batch=1 sa=0 sb=0 sd=0 atype=bf16 btype=bf16 dtype=f32 compute=f32 alpha=1.0 beta=0.0\n"
    "gemm k4/nd%2Cdhk-%3Enhk a=7 b=61 d=18 ta=n tb=n m=32 n=d0 k=64 lda=32 ldb=64 ldd=32 batch=1 sa=0 sb=0 sd=0 atype=bf16 btype=bf16 dtype=f32 compute=f32 alpha=1.0 beta=0.0\n"
    "launch k5 32*d0/256 1 1 256 1 1 0 3 16 1 19\n"
    "launch k6 16*d0/256 1 1 256 1 1 0 3 17 1 20\n"
    "launch k7 32*d0/256 1 1 256 1 1 0 3 20 1 13\n"
    "launch k8 32*d0/256 1 1 256 1 1 0 3 18 1 14\n"
    "launch k9 4*d0 1 1 256 1 1 0 6 19 13 14 1 21 62\n"
    "gemm k10/nhik%2Chikd-%3End a=8 b=62 d=23 ta=n tb=n m=64 n=d0 k=64 lda=64 ldb=64 ldd=64 batch=1 sa=0 sb=0 sd=0 atype=bf16 btype=bf16 dtype=f32 compute=f32 alpha=1.0 beta=1.0 c=3\n"
    "launch k12 d0 1 1 256 1 1 0 4 23 9 24 63\n"
    "gemm k13/nd%2Cdf-%3Enf a=10 b=63 d=25 ta=n tb=n m=160 n=d0 k=64 lda=160 ldb=64 ldd=160 batch=1 sa=0 sb=0 sd=0 atype=bf16 btype=bf16 dtype=f32 compute=f32 alpha=1.0 beta=0.0\n"
    "gemm k14/nd%2Cdf-%3Enf a=11 b=63 d=26 ta=n tb=n m=160 n=d0 k=64 lda=160 ldb=64 ldd=160 batch=1 sa=0 sb=0 sd=0 atype=bf16 btype=bf16 dtype=f32 compute=f32 alpha=1.0 beta=0.0\n"
    "launch k15 20*d0/256 1 1 256 1 1 0 4 25 26 27 64\n"
    "gemm k16/nf%2Cfd-%3End a=12 b=64 d=29 ta=n tb=n m=64 n=d0 k=160 lda=64 ldb=160 ldd=64 batch=1 sa=0 sb=0 sd=0 atype=bf16 btype=bf16 dtype=f32 compute=f32 alpha=1.0 beta=1.0 c=23\n"
    "launch k18 d0 1 1 256 1 1 0 4 29 30 41 65\n"
    "gemm k19/nd%2Cdhik-%3Enhik a=31 b=65 d=42 ta=n tb=n m=64 n=d0 k=64 lda=64 ldb=64 ldd=64 batch=1 sa=0 sb=0 sd=0 atype=bf16 btype=bf16 dtype=f32 compute=f32 alpha=1.0 beta=0.0\n"
    "gemm k20/nd%2Cdhk-%3Enhk a=32 b=65 d=43 ta=n tb=n m=32 n=d0 k=64 lda=32 ldb=64 ldd=32 batch=1 sa=0 sb=0 sd=0 atype=bf16 btype=bf16 dtype=f32 compute=f32 alpha=1.0 beta=0.0\n"
    "gemm k21/nd%2Cdhk-%3Enhk a=33 b=65 d=44 ta=n tb=n m=32 n=d0 k=64 lda=32 ldb=64 ldd=32 batch=1 sa=0 sb=0 sd=0 atype=bf16 btype=bf16 dtype=f32 compute=f32 alpha=1.0 beta=0.0\n"
    "launch k22 32*d0/256 1 1 256 1 1 0 3 42 1 45\n"
    "launch k23 16*d0/256 1 1 256 1 1 0 3 43 1 46\n"
    "launch k24 32*d0/256 1 1 256 1 1 0 3 46 1 39\n"
    "launch k25 32*d0/256 1 1 256 1 1 0 3 44 1 40\n"
    "launch k26 4*d0 1 1 256 1 1 0 6 45 39 40 1 47 66\n"
    "gemm k27/nhik%2Chikd-%3End a=34 b=66 d=49 ta=n tb=n m=64 n=d0 k=64 lda=64 ldb=64 ldd=64 batch=1 sa=0 sb=0 sd=0 atype=bf16 btype=bf16 dtype=f32 compute=f32 alpha=1.0 beta=1.0 c=29\n"
    "launch k29 d0 1 1 256 1 1 0 4 49 35 50 67\n"
    "gemm k30/nd%2Cdf-%3Enf a=36 b=67 d=51 ta=n tb=n m=160 n=d0 k=64 lda=160 ldb=64 ldd=160 batch=1 sa=0 sb=0 sd=0 atype=bf16 btype=bf16 dtype=f32 compute=f32 alpha=1.0 beta=0.0\n"
    "gemm k31/nd%2Cdf-%3Enf a=37 b=67 d=52 ta=n tb=n m=160 n=d0 k=64 lda=160 ldb=64 ldd=160 batch=1 sa=0 sb=0 sd=0 atype=bf16 btype=bf16 dtype=f32 compute=f32 alpha=1.0 beta=0.0\n"
    "launch k32 20*d0/256 1 1 256 1 1 0 4 51 52 53 68\n"
    "gemm k33/nf%2Cfd-%3End a=38 b=68 d=55 ta=n tb=n m=64 n=d0 k=160 lda=64 ldb=160 ldd=64 batch=1 sa=0 sb=0 sd=0 atype=bf16 btype=bf16 dtype=f32 compute=f32 alpha=1.0 beta=1.0 c=49\n"
    "launch k35 64*d2/256 1 1 256 1 1 0 2 55 58\n"
    "launch k36 d2 1 1 256 1 1 0 4 58 56 59 69\n"
    "gemm k37/nd%2Cdv-%3Env a=57 b=69 d=60 ta=n tb=n m=256 n=d2 k=64 lda=256 ldb=64 ldd=256 batch=1 sa=0 sb=0 sd=0 atype=bf16 btype=bf16 dtype=f32 compute=f32 alpha=1.0 beta=0.0\n"
    "end\n"
    ;
