/* prelude_vec.cpp - the generated CUDA prelude's vector loads and stores
 * (ldv8_T / stv8_T, templates/cuda_prelude.cuh.in) against its scalar
 * conversions (ld_T / st_T), and its integer f32 -> bf16 rounding (st_bf16)
 * against the generic one (st_bf16_d, the algorithm the C prelude's tests
 * check against ml_dtypes).
 *
 *   ueajc 'i->i' --emit=cuda | sed '/^\/\* Buffers (index/,$d' > prelude.cuh
 *   g++ -std=c++17 -O1 -ffp-contract=off -fno-strict-aliasing -DUEAJ_HAVE_STDINT \
 *       -include tests/cuda/cuda_shim.hpp -include prelude.cuh tests/cuda/prelude_vec.cpp
 *
 * The prelude's functions are __device__ functions, plain host functions
 * under the shim, so they are called directly.  Loads: every 16-bit pattern
 * (bf16, f16) and every 8-bit one (both fp8), 8 lanes at a time, bit for
 * bit.  Stores: every bf16 value as an f32, its f32 neighbours and the
 * halfway points between bf16 values (ties), specials, and 4 M pseudo-random
 * f32 bit patterns, through all four narrow types.  st_bf16 vs st_bf16_d:
 * those values plus every 97th f32 bit pattern (44 M).  Prints one line;
 * exit status 1 on the first difference (printed). */
#include <stdio.h>
#include <string.h>
#include <vector>

static unsigned bits(float f) { unsigned u; memcpy(&u, &f, 4); return u; }
static float from(unsigned u) { float f; memcpy(&f, &u, 4); return f; }

static int fail(const char *what, size_t i, unsigned in, unsigned got, unsigned want)
{
    printf("prelude_vec: %s differs at %zu (input 0x%08x): 0x%x, want 0x%x\n", what, i, in, got, want);
    return 1;
}

template <typename T, void (*LDV)(const T *, float *), float (*LD)(T)>
static int check_loads(const char *what, unsigned n)
{
    alignas(16) std::vector<T> v(n);
    for (unsigned i = 0; i < n; i++) v[i] = (T)i;
    for (unsigned i = 0; i < n; i += 8) {
        float r[8];
        LDV(&v[i], r);
        for (int k = 0; k < 8; k++)
            if (bits(r[k]) != bits(LD(v[i + k]))) return fail(what, i + k, i + k, bits(r[k]), bits(LD(v[i + k])));
    }
    return 0;
}

template <typename T, void (*STV)(T *, const float *), T (*ST)(float)>
static int check_stores(const char *what, const std::vector<float> &x)
{
    for (size_t i = 0; i + 8 <= x.size(); i += 8) {
        alignas(16) T out[8];
        STV(out, &x[i]);
        for (int k = 0; k < 8; k++)
            if (out[k] != ST(x[i + k])) return fail(what, i + k, bits(x[i + k]), out[k], ST(x[i + k]));
    }
    return 0;
}

int main()
{
    int bad = 0;
    bad |= check_loads<uint16_t, ldv8_bf16, ld_bf16>("ldv8_bf16", 65536);
    bad |= check_loads<uint16_t, ldv8_f16, ld_f16>("ldv8_f16", 65536);
    bad |= check_loads<uint8_t, ldv8_f8e4m3, ld_f8e4m3>("ldv8_f8e4m3", 256);
    bad |= check_loads<uint8_t, ldv8_f8e5m2, ld_f8e5m2>("ldv8_f8e5m2", 256);

    std::vector<float> x;
    for (unsigned h = 0; h < 65536; h++) {
        const unsigned u = h << 16;
        x.push_back(from(u));
        x.push_back(from(u + 1));
        x.push_back(from(u - 1));
        x.push_back(from(u | 0x8000u));        /* halfway to the next bf16: a tie */
        x.push_back(from((u | 0x8000u) + 1));
        x.push_back(from((u | 0x8000u) - 1));
    }
    const unsigned special[] = {0, 0x80000000u, 0x7F800000u, 0xFF800000u, 0x7FC00000u, 0xFFC00001u, 0x7F800001u,
                                0x7F7FFFFFu, 0x00000001u, 0x807FFFFFu, 0x477FE000u, 0x43E00000u, 0x47600000u};
    for (unsigned s : special) x.push_back(from(s));
    unsigned long long r = 88172645463325252ull;
    for (int i = 0; i < (4 << 20); i++) {
        r ^= r << 13; r ^= r >> 7; r ^= r << 17;
        x.push_back(from((unsigned)r));
    }
    while (x.size() % 8) x.push_back(0.0f);
    bad |= check_stores<uint16_t, stv8_bf16, st_bf16>("stv8_bf16", x);
    bad |= check_stores<uint16_t, stv8_f16, st_f16>("stv8_f16", x);
    bad |= check_stores<uint8_t, stv8_f8e4m3, st_f8e4m3>("stv8_f8e4m3", x);
    bad |= check_stores<uint8_t, stv8_f8e5m2, st_f8e5m2>("stv8_f8e5m2", x);
    for (size_t i = 0; i + 8 <= x.size(); i += 8) {  /* f32 passes through unchanged */
        alignas(16) float a[8], b[8];
        memcpy(a, &x[i], sizeof a);
        float t[8];
        ldv8_f32(a, t);
        stv8_f32(b, t);
        if (memcmp(a, b, sizeof a)) return fail("ldv8_f32/stv8_f32", i, bits(a[0]), bits(b[0]), bits(a[0]));
    }
    size_t n_st = x.size();
    for (size_t i = 0; i < x.size(); i++)
        if (st_bf16(x[i]) != st_bf16_d(x[i])) return fail("st_bf16", i, bits(x[i]), st_bf16(x[i]), st_bf16_d(x[i]));
    for (unsigned long long u = 0; u < (1ull << 32); u += 97, n_st++)
        if (st_bf16(from((unsigned)u)) != st_bf16_d(from((unsigned)u)))
            return fail("st_bf16", (size_t)u, (unsigned)u, st_bf16(from((unsigned)u)), st_bf16_d(from((unsigned)u)));
    if (bad) return 1;
    printf("prelude_vec: ldv8 = ld on every 16- and 8-bit pattern; stv8 = st on %zu floats (4 narrow types); "
           "st_bf16 = st_bf16_d on %zu floats\n", x.size(), n_st);
    return 0;
}
