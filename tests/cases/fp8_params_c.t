# args: --emit=c-kernels 'ij,*jk->ik' --fp8-params --dim i=2 --dim j=3 --dim k=4
# >>> stdout
/* (the fixed prelude of templates/c_prelude.h.in is omitted: --emit=c shows it) */
/* Buffers (index: tensor, shape, dtype): */
/*   bufs[0]: x0 [2, 3] f32 */
/*   bufs[1]: w_1 [3, 4] f8e4m3 */
/*   bufs[2]: out [2, 4] f32 */

/* k0: contract ij,jk->ik
 *     from: ij,*jk->ik
 *     at <expr>:1:1
 *     out = x0:f32, w_1:f8e4m3 -> f32, accumulate f32 */
static void k0(const float *restrict a0, const uint8_t *restrict a1, float *restrict out)
{
    for (int64_t i_o = 0; i_o < 8; i_o++) {
        out[i_o] = -0.0f; /* -0, the identity of + */
    }
    #pragma omp parallel if (2 > 1)
    {
        int64_t lo_k = 0, hi_k = 4;
        #ifdef _OPENMP
        const int64_t nt = omp_get_num_threads(), id = omp_get_thread_num();
        lo_k = 4 * id / nt;
        hi_k = 4 * (id + 1) / nt;
        #endif
        for (int64_t i_j = 0; i_j < 3; i_j++) {
            for (int64_t i_i = 0; i_i < 2; i_i++) {
                for (int64_t i_k = lo_k; i_k < hi_k; i_k++) {
                    out[i_i * 4 + i_k] = fmaf(ld_f32(a0[i_i * 3 + i_j]), ld_f8e4m3(a1[i_j * 4 + i_k]), out[i_i * 4 + i_k]);
                }
            }
        }
    }
}

/* Runs every kernel in order.  bufs[i] is tensor i (see the table above). */
void ueaj_forward(void *const *bufs, const int64_t *dyn)
{
    (void)dyn;
    k0((const float *)bufs[0], (const uint8_t *)bufs[1], (float *)bufs[2]);
}

const int ueaj_plan_version = 1;
const int ueaj_plan_ndims = 0;
const char *const ueaj_plan_dim_names[1] = {0};
const int ueaj_plan_ntensors = 3;
const ueaj_plan_tensor ueaj_plan_tensors[3] = {
    {"x0", 0, "f32", 2, {2, 3}, 0, 0, {0}, {0}, 0, 0},
    {"w_1", 1, "f8e4m3", 2, {3, 4}, 0, 0, {0}, {0}, 0, 0},
    {"out", 2, "f32", 2, {2, 4}, 0, 0, {0}, {0}, 0, 0},
};
