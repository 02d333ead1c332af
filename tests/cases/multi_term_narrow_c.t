# args: --emit=c-kernels 'ij,*w=jk + *b=k -> ik' --out-dtype bf16 --dim i=2 --dim j=3 --dim k=4
# >>> stdout
/* (the fixed prelude of templates/c_prelude.h.in is omitted: --emit=c shows it) */
/* Buffers (index: tensor, shape, dtype): */
/*   bufs[0]: x0 [2, 3] f32 */
/*   bufs[1]: w [3, 4] bf16 */
/*   bufs[2]: b [4] bf16 */
/*   bufs[3]: out [2, 4] bf16 */
/*   bufs[4]: t4 [2, 4] f32 */

/* k0: contract ij,jk->ik
 *     from: term 1 (ij,*w=jk) of ij,*w=jk + *b=k -> ik
 *     at <expr>:1:1
 *     t4 = x0:f32, w:bf16 -> f32, accumulate f32 */
static void k0(const float *restrict a0, const uint16_t *restrict a1, float *restrict out)
{
    /* a matrix product: out[2, 4] = x[2, 3] . w[3, 4], w in column panels */
    ueaj_matmul_bf16(2, 3, 4, a0, a1, out, 2 > 1, 64);
}

/* k1: contract k->ik
 *     from: term 2 (*b=k) of ij,*w=jk + *b=k -> ik
 *     at <expr>:1:12
 *     t4 += b:bf16 -> f32, accumulate f32 */
static void k1(const uint16_t *restrict a0, float *restrict out)
{
    for (int64_t i_i = 0; i_i < 2; i_i++) {
        for (int64_t i_k = 0; i_k < 4; i_k++) {
            float acc = -0.0f; /* -0, the identity of +: keeps the sign of a lone -0 */
            acc += ld_bf16(a0[i_k]);
            out[i_i * 4 + i_k] = st_f32(ld_f32(out[i_i * 4 + i_k]) + acc);
        }
    }
}

/* k2: cast
 *     from: round the summed terms once to the result dtype
 *     at <expr>:1:20
 *     out = t4:f32 -> bf16 */
static void k2(const float *restrict a0, uint16_t *restrict out)
{
    for (int64_t i_a = 0; i_a < 2; i_a++) {
        for (int64_t i_b = 0; i_b < 4; i_b++) {
            out[i_a * 4 + i_b] = st_bf16(ld_f32(a0[i_a * 4 + i_b]));
        }
    }
}

/* Runs every kernel in order.  bufs[i] is tensor i (see the table above). */
void ueaj_forward(void *const *bufs, const int64_t *dyn)
{
    (void)dyn;
    k0((const float *)bufs[0], (const uint16_t *)bufs[1], (float *)bufs[4]);
    k1((const uint16_t *)bufs[2], (float *)bufs[4]);
    k2((const float *)bufs[4], (uint16_t *)bufs[3]);
}

const int ueaj_plan_version = 1;
const int ueaj_plan_ndims = 0;
const char *const ueaj_plan_dim_names[1] = {0};
const int ueaj_plan_ntensors = 5;
const ueaj_plan_tensor ueaj_plan_tensors[5] = {
    {"x0", 0, "f32", 2, {2, 3}, 0, 0, {0}, {0}, 0, 0},
    {"w", 1, "bf16", 2, {3, 4}, 0, 0, {0}, {0}, 64, 1},
    {"b", 1, "bf16", 1, {4}, 0, 0, {0}, {0}, 0, 0},
    {"out", 2, "bf16", 2, {2, 4}, 0, 0, {0}, {0}, 0, 0},
    {"t4", 3, "f32", 2, {2, 4}, 0, 0, {0}, {0}, 0, 0},
};
