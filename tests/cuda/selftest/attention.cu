/* attention.cu - grouped-query decode attention, one block per query head:
 * the token at position pos attends causally to cache positions 0..pos of
 * its KV head (h / (H / KVH)).  Warps take positions round-robin and
 * reduce q.k with __shfl_xor_sync; the block then finds the maximum and
 * the sum (warp shuffles, then a __shared__ array across warps) and each
 * thread forms one output element from the bf16 values.
 * dims: d[0] = pos, d[1] = H, d[2] = KVH, d[3] = head_dim, d[4] = cache
 * capacity T (k, v are bf16 [T][KVH][head_dim]; q, out f32 [H][head_dim]). */
#include "ueaj_prelude.cuh"

extern "C" __global__ void __launch_bounds__(128)
attn_decode_gqa(UeajDims dims, const float *__restrict__ q, const unsigned short *__restrict__ kc,
                const unsigned short *__restrict__ vc, float *__restrict__ out)
{
    __shared__ float sc[256]; /* scores, then probabilities; pos < 256 */
    __shared__ float red[32]; /* one value per warp */
    const int pos = (int)dims.d[0], H = (int)dims.d[1], KVH = (int)dims.d[2], D = (int)dims.d[3];
    const int h = blockIdx.x, kvh = h / (H / KVH);
    const int warp = threadIdx.x / 32, lane = threadIdx.x % 32, nwarps = blockDim.x / 32;
    const float *qh = q + (long long)h * D;
    const float scale = rsqrtf((float)D);
    for (int t = warp; t <= pos; t += nwarps) {
        const unsigned short *kr = kc + ((long long)t * KVH + kvh) * D;
        float s = 0.0f;
        for (int d = lane; d < D; d += 32) s = fmaf(qh[d], ueaj_bf16_to_f32(kr[d]), s);
        for (int off = 16; off > 0; off >>= 1) s += __shfl_xor_sync(UEAJ_FULL_MASK, s, off);
        if (lane == 0) sc[t] = s * scale;
    }
    __syncthreads();
    float m = UEAJ_NEG_INF;
    for (int t = threadIdx.x; t <= pos; t += blockDim.x) m = fmaxf(m, sc[t]);
    for (int off = 16; off > 0; off >>= 1) m = fmaxf(m, __shfl_xor_sync(UEAJ_FULL_MASK, m, off));
    if (lane == 0) red[warp] = m;
    __syncthreads();
    m = red[0];
    for (int w = 1; w < nwarps; w++) m = fmaxf(m, red[w]);
    __syncthreads(); /* red is reused below */
    float sum = 0.0f;
    for (int t = threadIdx.x; t <= pos; t += blockDim.x) {
        const float e = __expf(sc[t] - m);
        sc[t] = e;
        sum += e;
    }
    for (int off = 16; off > 0; off >>= 1) sum += __shfl_down_sync(UEAJ_FULL_MASK, sum, off);
    if (lane == 0) red[warp] = sum;
    __syncthreads();
    float total = 0.0f;
    for (int w = 0; w < nwarps; w++) total += red[w];
    const float inv = 1.0f / total;
    for (int d = threadIdx.x; d < D; d += blockDim.x) {
        float acc = 0.0f;
        for (int t = 0; t <= pos; t++) acc = fmaf(sc[t], ueaj_bf16_to_f32(vc[((long long)t * KVH + kvh) * D + d]), acc);
        out[(long long)h * D + d] = acc * inv;
    }
}
