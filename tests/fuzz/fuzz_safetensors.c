/* fuzz_safetensors.c - bytes as a .safetensors file into tio_st_open
 * (runtime/tensorio.c), the reader every checkpoint goes through.
 *
 * A weights file comes from a download or a conversion script and may be
 * truncated or hostile: every input must open or give a message, never a
 * crash, a leak, undefined behaviour or an allocation beyond the file's
 * size.  An opened file is walked as the loader walks it: each tensor found
 * by name, every element read, converted to f32 and to i32 (the bulk
 * conversions of ckpt_load_tensor), its mapped pages released.  Then the
 * tensors are written back with tio_write_safetensors and read again: the
 * second reading must give the same names, dtypes, shapes and bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "tensorio.h"
#include "fuzz_files.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void walk(const SafeTensors *st)
{
    for (int i = 0; i < st->count; i++) {
        const HostTensor *t = &st->tensors[i];
        size_t es = dtype_size(t->dtype);
        int64_t n = tio_numel(t);
        if (!t->name || es == 0 || n < 0 || (uint64_t)n * es != t->nbytes || (t->nbytes && !t->data)) abort();
        if (tio_st_find(st, t->name) != t) abort();    /* names are unique */
        volatile double sum = 0;
        for (int64_t k = 0; k < n; k++) sum += dtype_load(t->data, t->dtype, (size_t)k);
        (void)sum;
        float *f = malloc((size_t)n * 4 + 4);
        int32_t *q = malloc((size_t)n * 4 + 4);
        if (f && q) {
            dtype_convert(f, DT_F32, t->data, t->dtype, (size_t)n);
            dtype_convert(q, DT_I32, t->data, t->dtype, (size_t)n);
        }
        free(f);
        free(q);
        if (t->view) tio_st_release(st, t->data, t->nbytes);
    }
}

/* Written back and read again: the same tensors. */
static void round_trip(const SafeTensors *st)
{
    char dir[256], path[320];
    if (fz_tmpdir(dir)) return;
    snprintf(path, sizeof path, "%s/again.safetensors", dir);
    const HostTensor **ts = malloc(((size_t)st->count + 1) * sizeof *ts);
    for (int i = 0; ts && i < st->count; i++) ts[i] = &st->tensors[i];
    TioError err;
    SafeTensors again;
    if (ts && tio_write_safetensors(path, ts, st->count, &err) == 0) {
        if (tio_st_open(path, &again, &err) != 0 || again.count != st->count) abort();
        for (int i = 0; i < st->count; i++) {
            const HostTensor *a = &st->tensors[i], *b = &again.tensors[i];
            if (strcmp(a->name, b->name) || a->dtype != b->dtype || a->rank != b->rank ||
                memcmp(a->shape, b->shape, (size_t)a->rank * sizeof *a->shape) || a->nbytes != b->nbytes ||
                (a->nbytes && memcmp(a->data, b->data, a->nbytes)))
                abort();
        }
        tio_st_close(&again);
    }
    free(ts);
    fz_rmdir(dir);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[64];
    int fd = fz_memfd(data, size, path);
    if (fd < 0) return 0;
    SafeTensors st;
    TioError err;
    if (tio_st_open(path, &st, &err) == 0) {
        walk(&st);
        round_trip(&st);
        tio_st_close(&st);
    } else if (!strstr(err.msg, path)) {
        abort();                                  /* every message names the file */
    }
    close(fd);
    return 0;
}
