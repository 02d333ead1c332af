/* fuzz_npy.c - bytes as a .npy file into tio_read_npy (runtime/tensorio.c).
 *
 * `ueajc eval` reads its operands from .npy files: every input must give a
 * tensor or a message naming the file, never a crash, a leak, undefined
 * behaviour or an allocation beyond the file's size.  A tensor that reads
 * is written back with tio_write_npy and read again: same dtype, shape and
 * bytes (Fortran order and big-endian data come back as C order, little
 * endian, which is what the first reading already gave). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "tensorio.h"
#include "fuzz_files.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void round_trip(const HostTensor *t)
{
    char dir[256], path[320];
    if (fz_tmpdir(dir)) return;
    snprintf(path, sizeof path, "%s/again.npy", dir);
    TioError err;
    HostTensor b;
    if (tio_write_npy(path, t, &err) != 0) abort();  /* every type .npy reads, it writes */
    if (tio_read_npy(path, &b, &err) != 0) abort();
    if (t->dtype != b.dtype || t->rank != b.rank || memcmp(t->shape, b.shape, (size_t)t->rank * sizeof *t->shape) ||
        t->nbytes != b.nbytes || (t->nbytes && memcmp(t->data, b.data, t->nbytes)))
        abort();
    tio_tensor_free(&b);
    fz_rmdir(dir);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[64];
    int fd = fz_memfd(data, size, path);
    if (fd < 0) return 0;
    HostTensor t;
    TioError err;
    if (tio_read_npy(path, &t, &err) == 0) {
        int64_t n = tio_numel(&t);
        if (n < 0 || (uint64_t)n * dtype_size(t.dtype) != t.nbytes || !t.data) abort();
        volatile double sum = 0;
        for (int64_t k = 0; k < n; k++) sum += dtype_load(t.data, t.dtype, (size_t)k);
        (void)sum;
        round_trip(&t);
        tio_tensor_free(&t);
    } else if (!strstr(err.msg, path)) {
        abort();
    }
    close(fd);
    return 0;
}
