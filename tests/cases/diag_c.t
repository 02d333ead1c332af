# args: --emit=c-kernels 'ii->i'
# >>> stdout
/* (the fixed prelude of templates/c_prelude.h.in is omitted: --emit=c shows it) */
/* Buffers (index: tensor, shape, dtype): */
/*   bufs[0]: x0 [D0, D0] f32 */
/*   bufs[1]: out [D0] f32 */

/* k0: contract ii->i
 *     from: ii->i
 *     at <expr>:1:1
 *     out = x0:f32 -> f32, accumulate f32 */
static void k0(const int64_t *dyn, const float *restrict a0, float *restrict out)
{
    const int64_t D0 = dyn[0]; /* i */
    for (int64_t i_i = 0; i_i < D0; i_i++) {
        float acc = -0.0f; /* -0, the identity of +: keeps the sign of a lone -0 */
        acc += ld_f32(a0[i_i * D0 + i_i]);
        out[i_i] = st_f32(acc);
    }
}

/* Runs every kernel in order.  bufs[i] is tensor i (see the table above). */
void ueaj_forward(void *const *bufs, const int64_t *dyn)
{
    k0(dyn, (const float *)bufs[0], (float *)bufs[1]);
}

const int ueaj_plan_version = 1;
const int ueaj_plan_ndims = 1;
const char *const ueaj_plan_dim_names[1] = {"i"};
const int ueaj_plan_ntensors = 2;
const ueaj_plan_tensor ueaj_plan_tensors[2] = {
    {"x0", 0, "f32", 2, {-1, -1}, 0, 0, {0}, {0}, 0, 0},
    {"out", 2, "f32", 1, {-1}, 0, 0, {0}, {0}, 0, 0},
};
