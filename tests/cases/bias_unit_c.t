# args: --emit=c-kernels 'ij,*w=jk + *b=k -> ik' --unit --dim j=3 --dim k=4
# >>> stdout
/* (the fixed prelude of templates/c_prelude.h.in is omitted: --emit=c shows it) */
/* Buffers (index: tensor, shape, dtype): */
/*   bufs[0]: x0 [D0, 3] f32 */
/*   bufs[1]: w [3, 4] bf16 */
/*   bufs[2]: b [4] bf16 */
/*   bufs[3]: out [D0, 4] f32 */

/* k0: contract ij,jk->ik
 *     from: term 1 (ij,*w=jk) of ij,*w=jk + *b=k -> ik
 *     at <expr>:1:1
 *     out = x0:f32, w:bf16 -> f32, accumulate f32, divide by sqrt(3) */
static void k0(const int64_t *dyn, const float *restrict a0, const uint16_t *restrict a1, float *restrict out)
{
    const int64_t D0 = dyn[0]; /* i */
    for (int64_t i_i = 0; i_i < D0; i_i++) {
        for (int64_t i_k = 0; i_k < 4; i_k++) {
            float acc = -0.0f; /* -0, the identity of +: keeps the sign of a lone -0 */
            for (int64_t i_j = 0; i_j < 3; i_j++) {
                acc = fmaf(ld_f32(a0[i_i * 3 + i_j]), ld_bf16(a1[i_j * 4 + i_k]), acc);
            }
            acc = acc / 1.73205078f;
            out[i_i * 4 + i_k] = st_f32(acc);
        }
    }
}

/* k1: contract k->ik
 *     from: term 2 (*b=k) of ij,*w=jk + *b=k -> ik
 *     at <expr>:1:12
 *     out += b:bf16 -> f32, accumulate f32, divide by sqrt(1) */
static void k1(const int64_t *dyn, const uint16_t *restrict a0, float *restrict out)
{
    const int64_t D0 = dyn[0]; /* i */
    for (int64_t i_i = 0; i_i < D0; i_i++) {
        for (int64_t i_k = 0; i_k < 4; i_k++) {
            float acc = -0.0f; /* -0, the identity of +: keeps the sign of a lone -0 */
            acc += ld_bf16(a0[i_k]);
            acc = acc / 1.0f;
            out[i_i * 4 + i_k] = st_f32(ld_f32(out[i_i * 4 + i_k]) + acc);
        }
    }
}

/* Runs every kernel in order.  bufs[i] is tensor i (see the table above). */
void ueaj_forward(void *const *bufs, const int64_t *dyn)
{
    k0(dyn, (const float *)bufs[0], (const uint16_t *)bufs[1], (float *)bufs[3]);
    k1(dyn, (const uint16_t *)bufs[2], (float *)bufs[3]);
}

const int ueaj_plan_version = 1;
const int ueaj_plan_ndims = 1;
const char *const ueaj_plan_dim_names[1] = {"i"};
const int ueaj_plan_ntensors = 4;
const ueaj_plan_tensor ueaj_plan_tensors[4] = {
    {"x0", 0, "f32", 2, {-1, 3}, 0, 0, {0}, {0}, 0, 0},
    {"w", 1, "bf16", 2, {3, 4}, 0, 0, {0}, {0}, 0, 0},
    {"b", 1, "bf16", 1, {4}, 0, 0, {0}, {0}, 0, 0},
    {"out", 2, "f32", 2, {-1, 4}, 0, 0, {0}, {0}, 0, 0},
};
