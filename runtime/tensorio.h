/* tensorio.h - reading and writing tensors in .npy and .safetensors files.
 *
 * Errors: every function returns 0 on success and -1 on failure, with a
 * message in *err of the form "PATH: error: MESSAGE" (with the tensor name
 * and the byte offset where they help), never a crash on malformed input.
 * Ownership: a HostTensor owns its `data` (malloc'd, or a view into a
 * SafeTensors mapping when `view` is set; see below) and its `name`;
 * release with tio_tensor_free().
 */
#ifndef UEAJ_TENSORIO_H
#define UEAJ_TENSORIO_H

#include <stdint.h>
#include <stddef.h>
#include "../compiler/dtype.h"

#define TIO_MAX_RANK 16

typedef struct TioError { char msg[1024]; } TioError;

typedef struct HostTensor {
    char   *name;                   /* owned, may be NULL */
    DType   dtype;
    int     rank;
    int64_t shape[TIO_MAX_RANK];    /* row-major (C order) */
    void   *data;                   /* nelem * dtype_size(dtype) bytes */
    size_t  nbytes;
    int     view;                   /* 1: data points into a mapping, not owned */
} HostTensor;

int64_t tio_numel(const HostTensor *t);          /* -1 if rank/shape invalid or overflowing */
void    tio_tensor_free(HostTensor *t);          /* frees name and (unless view) data */

/* .npy (format versions 1.0, 2.0, 3.0).  Reads little-endian f2/f4/f8,
 * i1/i2/i4/i8, u1/u2/u4/u8, b1; big-endian data is byte-swapped; Fortran
 * order is transposed into C order.  Writes version 1.0, C order, little
 * endian.  Types numpy lacks (bf16, fp8) are refused by tio_write_npy
 * with a message suggesting .safetensors.  The output is byte-identical to
 * NumPy's np.save; it is written atomically like the safetensors writer.
 * The reader also rejects trailing bytes after the data and bool elements
 * other than 0/1; `name` is NULL. */
int tio_read_npy(const char *path, HostTensor *out, TioError *err);
int tio_write_npy(const char *path, const HostTensor *t, TioError *err);

/* .safetensors.  The file is memory-mapped read-only; tensors are views
 * into the mapping (tensor.view = 1) valid until tio_st_close().  The
 * header is validated completely at open: 8-byte length within the file,
 * JSON object, each entry with dtype/shape/data_offsets, offsets in range,
 * sizes consistent with shape*dtype, no overlaps, "__metadata__" allowed.
 * Dtypes: F64 F32 F16 BF16 F8_E4M3 F8_E5M2 I64 I32 I16 I8 U8 U16 U32 U64 BOOL.
 * Also enforced: the tensors cover the data buffer exactly (no gaps or
 * trailing bytes, as the format requires), unique names, no unknown keys,
 * __metadata__ values are strings, bool bytes are 0/1.  A tensor whose
 * data is not aligned to its element size in the file is copied into an
 * aligned buffer instead (view = 0); tio_st_close() frees those too.
 * On failure *st is left zeroed (tio_st_close on it is harmless). */
typedef struct SafeTensors {
    char       *path;          /* owned */
    void       *map;           /* mmap'd file */
    size_t      map_len;
    int         count;
    HostTensor *tensors;       /* count entries, in file-offset order */
} SafeTensors;

int  tio_st_open(const char *path, SafeTensors *st, TioError *err);
const HostTensor *tio_st_find(const SafeTensors *st, const char *name);
void tio_st_close(SafeTensors *st);
/* Drops the pages wholly inside [p, p + n) of st's mapping from this
 * process's memory (they stay in the page cache; a later read maps them
 * again): a tensor already copied out costs no resident memory.  Ranges
 * outside the mapping are ignored. */
void tio_st_release(const SafeTensors *st, const void *p, size_t n);

/* Writes n tensors (names required, unique) atomically: to PATH.tmpXXXXXX,
 * then rename().  Tensors are written in the given order. */
int tio_write_safetensors(const char *path, const HostTensor *const *ts, int n,
                          TioError *err);

#endif
