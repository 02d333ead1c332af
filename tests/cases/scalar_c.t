# args: --emit=c-kernels 'ij,ij'
# >>> stdout
/* (the fixed prelude of templates/c_prelude.h.in is omitted: --emit=c shows it) */
/* Buffers (index: tensor, shape, dtype): */
/*   bufs[0]: x0 [D0, D1] f32 */
/*   bufs[1]: x1 [D0, D1] f32 */
/*   bufs[2]: out [] f32 */

/* k0: contract ij,ij->
 *     from: ij,ij
 *     at <expr>:1:1
 *     out = x0:f32, x1:f32 -> f32, accumulate f32 */
static void k0(const int64_t *dyn, const float *restrict a0, const float *restrict a1, float *restrict out)
{
    const int64_t D0 = dyn[0]; /* i */
    const int64_t D1 = dyn[1]; /* j */
    float acc = -0.0f; /* -0, the identity of +: keeps the sign of a lone -0 */
    for (int64_t i_i = 0; i_i < D0; i_i++) {
        for (int64_t i_j = 0; i_j < D1; i_j++) {
            acc = fmaf(ld_f32(a0[i_i * D1 + i_j]), ld_f32(a1[i_i * D1 + i_j]), acc);
        }
    }
    out[0] = st_f32(acc);
}

/* Runs every kernel in order.  bufs[i] is tensor i (see the table above). */
void ueaj_forward(void *const *bufs, const int64_t *dyn)
{
    k0(dyn, (const float *)bufs[0], (const float *)bufs[1], (float *)bufs[2]);
}

const int ueaj_plan_version = 1;
const int ueaj_plan_ndims = 2;
const char *const ueaj_plan_dim_names[2] = {"i", "j"};
const int ueaj_plan_ntensors = 3;
const ueaj_plan_tensor ueaj_plan_tensors[3] = {
    {"x0", 0, "f32", 2, {-1, -2}, 0, 0, {0}, {0}, 0, 0},
    {"x1", 0, "f32", 2, {-1, -2}, 0, 0, {0}, {0}, 0, 0},
    {"out", 2, "f32", 0, {0}, 0, 0, {0}, {0}, 0, 0},
};
