/* dtype.h - element types and bit-exact conversions between them.
 *
 * Storage dtypes of ueajc tensors.  Conversions to narrower float formats
 * round to nearest, ties to even (RNE), as IEEE 754 and ml_dtypes do.
 * Overflow behaviour (documented, and matched by the tests against
 * ml_dtypes):
 *   f16, bf16, f8e5m2 have infinities: overflow rounds to +-inf.
 *   f8e4m3 (the "fn" variant: no infinities, one NaN pattern per sign,
 *   max finite 448) : values that round above 448 become NaN (ml_dtypes
 *   float8_e4m3fn behaviour); NaN stays NaN; +-inf becomes NaN.
 * The names follow safetensors (F32, F16, BF16, F8_E4M3, F8_E5M2, F64,
 * I32, I64, ...) and NumPy (<f4, <f2, ...) where they exist.
 */
#ifndef UEAJ_DTYPE_H
#define UEAJ_DTYPE_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

/* Keep this order: it is used in tables indexed by DType. */
typedef enum DType {
    DT_NONE = 0, /* unset / "natural" */
    DT_F32,
    DT_F16,
    DT_BF16,
    DT_F8E4M3,   /* float8_e4m3fn */
    DT_F8E5M2,   /* float8_e5m2 */
    DT_F64,
    DT_I8,
    DT_I16,
    DT_I32,
    DT_I64,
    DT_U8,
    DT_U16,
    DT_U32,
    DT_U64,
    DT_BOOL,
    DT_COUNT
} DType;

size_t dtype_size(DType t);            /* bytes per element; 0 for DT_NONE */
const char *dtype_name(DType t);       /* "f32", "bf16", "f8e4m3", ... */
bool dtype_parse(const char *s, DType *out); /* accepts dtype_name()s and aliases
                                          "float32","fp32","bfloat16","fp8",
                                          "e4m3","e5m2","float16","fp16",... */
bool dtype_is_float(DType t);
bool dtype_is_fp8(DType t);

/* Scalar conversions.  All are pure functions, bit-exact. */
float    bf16_to_f32(uint16_t h);
uint16_t f32_to_bf16(float f);
float    f16_to_f32(uint16_t h);
uint16_t f32_to_f16(float f);
float    e4m3_to_f32(uint8_t b);
uint8_t  f32_to_e4m3(float f);
float    e5m2_to_f32(uint8_t b);
uint8_t  f32_to_e5m2(float f);
/* Rounding from double directly (one rounding, not via f32).  Used when
 * converting f64 data: double->f32 is itself RNE. */
uint16_t f64_to_bf16(double d);
uint16_t f64_to_f16(double d);
uint8_t  f64_to_e4m3(double d);
uint8_t  f64_to_e5m2(double d);

/* Bulk conversion of n elements from src (type st) to dst (type dt).
 * Any pair of the types above; float -> integer truncates toward zero
 * like a C cast (callers check exactness when they need it); integer ->
 * float rounds RNE.  Returns false only for DT_NONE. */
bool dtype_convert(void *dst, DType dt, const void *src, DType st, size_t n);

/* Read element i of a buffer of type t as double (exact for every type
 * except 64-bit integers beyond 2^53), and write a double into element i
 * with one RNE rounding. */
double dtype_load(const void *buf, DType t, size_t i);
void   dtype_store(void *buf, DType t, size_t i, double v);

/* Details of the conversions above (added with the implementation):
 *  - NaN: converting to bf16/f16/f8 gives the canonical quiet NaN of the
 *    target with the input's sign (bf16 7fc0, f16 7e00, e4m3 7f, e5m2 7e),
 *    as ml_dtypes does; payloads are not kept.  Decoding bf16/f16 keeps the
 *    payload bits (a plain widening); decoding an f8 NaN gives the
 *    canonical f32 quiet NaN with its sign.
 *  - float -> integer: truncation toward zero, values out of the target's
 *    range saturate to its min/max, NaN gives 0 (a C cast would be UB).
 *  - integer -> integer: wraps modulo 2^bits (two's complement), as a C
 *    cast to an unsigned type and NumPy's astype do.
 *  - anything -> bool: nonzero (and NaN) gives 1; bool sources read any
 *    nonzero byte as 1.
 *  - integer -> f16/bf16/f8: one rounding from the exact integer (not via
 *    double, which would round twice for |x| > 2^53).
 *  - dtype_convert's src and dst must not overlap unless st == dt. */

/* safetensors dtype names ("F32", "BF16", "F8_E4M3", ...); NULL for
 * DT_NONE.  dtype_from_st_name accepts exactly those spellings. */
const char *dtype_st_name(DType t);
bool dtype_from_st_name(const char *s, DType *out);

#endif
