/* gguf.h - reading GGUF files (llama.cpp's model format) and
 * dequantizing ggml tensor types into f32.
 *
 * A GGUF file is: magic "GGUF", a version (2 or 3 are read; 1 used 32-bit
 * counts and is refused), a tensor count, a metadata count, the metadata
 * key/value pairs (typed: integers, floats, bools, strings, arrays, arrays
 * of arrays), one info record per tensor (name, up to 4 dimensions listed
 * fastest-first, ggml type, offset), padding to `general.alignment`
 * (default 32), and the tensor data.  Everything is little-endian.
 *
 * gguf_open() memory-maps the file and validates all of it before
 * returning: every length, count and offset against the real file size
 * (so a hostile header cannot make us allocate more than a small multiple
 * of the file size, or read past its end), value types, nesting depth,
 * unique keys and tensor names, the alignment, each tensor's type, shape
 * (no overflow; ne[0] a multiple of the type's block size, as ggml
 * requires), data offset (aligned, inside the file, no overlaps).  Errors
 * are "PATH: error: MESSAGE" naming the byte offset (and the key or
 * tensor) where the problem is; the reader never crashes on bad input.
 *
 * Strings are copied out of the mapping, NUL-terminated (their length is
 * kept too).  Keys and tensor names containing a NUL byte are refused.
 * Tensor data stays in the mapping: GgufTensor.data points into it and is
 * valid until gguf_close().
 */
#ifndef UEAJ_GGUF_H
#define UEAJ_GGUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "tensorio.h"           /* TioError */

#define GGUF_MAX_DIMS 4         /* as ggml (GGML_MAX_DIMS) */
#define GGUF_MAX_NESTING 4      /* arrays of arrays: at most this deep */
#define GGUF_DEFAULT_ALIGNMENT 32

/* Metadata value types, numbered as in the file. */
typedef enum GgufValueType {
    GGUF_VT_UINT8 = 0, GGUF_VT_INT8 = 1, GGUF_VT_UINT16 = 2, GGUF_VT_INT16 = 3,
    GGUF_VT_UINT32 = 4, GGUF_VT_INT32 = 5, GGUF_VT_FLOAT32 = 6, GGUF_VT_BOOL = 7,
    GGUF_VT_STRING = 8, GGUF_VT_ARRAY = 9, GGUF_VT_UINT64 = 10, GGUF_VT_INT64 = 11,
    GGUF_VT_FLOAT64 = 12,
    GGUF_VT_COUNT
} GgufValueType;

/* ggml tensor types, numbered as in the file (ids 4, 5, 31-33, 36-38 were
 * removed from ggml and are refused as unknown). */
typedef enum GgmlType {
    GGML_T_F32 = 0, GGML_T_F16 = 1, GGML_T_Q4_0 = 2, GGML_T_Q4_1 = 3,
    GGML_T_Q5_0 = 6, GGML_T_Q5_1 = 7, GGML_T_Q8_0 = 8, GGML_T_Q8_1 = 9,
    GGML_T_Q2_K = 10, GGML_T_Q3_K = 11, GGML_T_Q4_K = 12, GGML_T_Q5_K = 13,
    GGML_T_Q6_K = 14, GGML_T_Q8_K = 15, GGML_T_IQ2_XXS = 16, GGML_T_IQ2_XS = 17,
    GGML_T_IQ3_XXS = 18, GGML_T_IQ1_S = 19, GGML_T_IQ4_NL = 20, GGML_T_IQ3_S = 21,
    GGML_T_IQ2_S = 22, GGML_T_IQ4_XS = 23, GGML_T_I8 = 24, GGML_T_I16 = 25,
    GGML_T_I32 = 26, GGML_T_I64 = 27, GGML_T_F64 = 28, GGML_T_IQ1_M = 29,
    GGML_T_BF16 = 30, GGML_T_TQ1_0 = 34, GGML_T_TQ2_0 = 35, GGML_T_MXFP4 = 39,
    GGML_T_NVFP4 = 40, GGML_T_Q1_0 = 41,
    GGML_T_COUNT
} GgmlType;

typedef struct GgufValue GgufValue;
struct GgufValue {
    GgufValueType type;
    union {
        uint64_t u;             /* UINT8 UINT16 UINT32 UINT64 */
        int64_t  i;             /* INT8 INT16 INT32 INT64 */
        double   f;             /* FLOAT32 (widened exactly) and FLOAT64 */
        bool     b;             /* BOOL (the byte must be 0 or 1) */
        struct { const char *s; uint64_t len; } str;   /* STRING: NUL-terminated copy */
        struct {
            GgufValueType etype;
            uint64_t n;
            const unsigned char *raw;   /* scalar elements: packed little-endian, in the mapping */
            GgufValue *elems;           /* STRING and ARRAY elements, parsed (else NULL) */
        } arr;                  /* ARRAY */
    } v;
};

typedef struct GgufKV {
    const char *key;
    GgufValue   value;
    uint64_t    offset;         /* file offset of the key */
} GgufKV;

typedef struct GgufTensor {
    const char *name;
    int         n_dims;
    int64_t     ne[GGUF_MAX_DIMS];  /* ggml order: ne[0] is the fastest (row length); unused = 1 */
    uint32_t    type;               /* GgmlType */
    uint64_t    offset;             /* as stored: relative to the data section */
    uint64_t    nbytes;
    const unsigned char *data;      /* into the mapping */
    uint64_t    info_offset;        /* file offset of its info record */
} GgufTensor;

typedef struct GgufPool GgufPool;

typedef struct GgufFile {
    char       *path;           /* owned */
    void       *map;
    size_t      map_len;
    uint32_t    version;
    uint64_t    alignment;
    uint64_t    data_offset;    /* file offset of the data section */
    int64_t     n_kv;
    GgufKV     *kv;             /* in file order */
    int64_t     n_tensors;
    GgufTensor *tensors;        /* in file order */
    GgufPool   *pool;           /* strings and parsed array elements */
} GgufFile;

/* Opens and validates PATH.  On failure *g is left zeroed (gguf_close on
 * it is harmless). */
int  gguf_open(const char *path, GgufFile *g, TioError *err);
void gguf_close(GgufFile *g);

const GgufValue  *gguf_get(const GgufFile *g, const char *key);          /* NULL if absent */
const GgufTensor *gguf_find_tensor(const GgufFile *g, const char *name); /* NULL if absent */

/* Values.  gguf_value_int accepts every integer type (and bool), failing
 * only for a UINT64 above INT64_MAX or a non-integer; gguf_value_float
 * accepts floats and integers; gguf_value_str returns NULL unless STRING.
 * gguf_arr_get materialises element i of an array (false if out of
 * range); string and array elements share the file's storage. */
bool        gguf_value_int(const GgufValue *v, int64_t *out);
bool        gguf_value_float(const GgufValue *v, double *out);
const char *gguf_value_str(const GgufValue *v);
bool        gguf_arr_get(const GgufValue *arr, uint64_t i, GgufValue *out);
const char *gguf_value_type_name(GgufValueType t);    /* "uint32", "string", ...; "?" if unknown */

/* ggml types. */
const char *gguf_type_name(uint32_t type);     /* "Q4_1", ...; NULL for unknown ids */
int64_t     gguf_type_block(uint32_t type);    /* elements per block; 0 for unknown */
size_t      gguf_type_size(uint32_t type);     /* bytes per block; 0 for unknown */
/* Dequantizable here: F32 F16 BF16 F64 Q4_0 Q4_1 Q5_0 Q5_1 Q8_0 Q4_K Q5_K Q6_K. */
bool        gguf_can_dequantize(uint32_t type);

/* Dequantizes n elements (a multiple of the block size) from src into dst,
 * exactly as ggml's dequantize_row_* functions compute them (single
 * precision, same operation order, no fused multiply-add), so the results
 * are bit-identical to llama.cpp's.  Returns false for a type that cannot
 * be dequantized or an n that is not a whole number of blocks. */
bool gguf_dequantize(uint32_t type, const void *src, float *dst, int64_t n);

#endif
