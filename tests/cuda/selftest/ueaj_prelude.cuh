/* ueaj_prelude.cuh - the part of the generated CUDA prelude the self-tests
 * use: run-time dims passed by value, and bf16 stored as unsigned short,
 * converted with bit operations (round to nearest even, NaN kept quiet),
 * as the emitter's own prelude does.  Valid for NVRTC and for the shim. */
#ifndef UEAJ_PRELUDE_CUH
#define UEAJ_PRELUDE_CUH

struct UeajDims {
    long long d[8];
};

static __device__ __forceinline__ float ueaj_bf16_to_f32(unsigned short h)
{
    return __uint_as_float((unsigned)h << 16);
}

static __device__ __forceinline__ unsigned short ueaj_f32_to_bf16(float f)
{
    unsigned u = __float_as_uint(f);
    if ((u & 0x7fffffffu) > 0x7f800000u) return (unsigned short)((u >> 16) | 0x40u);
    u += 0x7fffu + ((u >> 16) & 1u);
    return (unsigned short)(u >> 16);
}

#define UEAJ_FULL_MASK 0xffffffffu
#define UEAJ_NEG_INF (-__int_as_float(0x7f800000))

#endif
