/* fuzz_files.h - putting a fuzz input where a runtime reader expects a
 * file (the readers of runtime/ take paths: tio_st_open, gguf_open,
 * tok_load ...).  Included by the fuzz targets; not a target itself.
 *
 *   fz_memfd(data, size, path)   the bytes in an anonymous memory file;
 *                                path gets "/proc/self/fd/N", which open()
 *                                and mmap() treat as a regular file.
 *                                Returns the fd (close it after), -1.
 *   fz_tmpdir(dir)               a fresh private directory (in /dev/shm when
 *                                there is one: no disk writes), removed with
 *                                everything in it by fz_rmdir(dir).
 *   fz_write(dir, name, p, n)    DIR/NAME := p[0..n); 0 or -1.
 *
 * Everything is per call: nothing outlives one LLVMFuzzerTestOneInput. */
#ifndef UEAJ_FUZZ_FILES_H
#define UEAJ_FUZZ_FILES_H

#include <fcntl.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static inline int fz_write_fd(int fd, const uint8_t *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w <= 0) return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static inline int fz_memfd(const uint8_t *data, size_t size, char path[64])
{
    int fd = memfd_create("fuzz", MFD_CLOEXEC);
    if (fd < 0) return -1;
    if (fz_write_fd(fd, data, size) != 0) { close(fd); return -1; }
    snprintf(path, 64, "/proc/self/fd/%d", fd);
    return fd;
}

static inline int fz_tmpdir(char dir[256])
{
    struct stat sb;
    const char *base = stat("/dev/shm", &sb) == 0 && S_ISDIR(sb.st_mode) && access("/dev/shm", W_OK) == 0
                       ? "/dev/shm" : getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    snprintf(dir, 256, "%s/ueaj-fuzz.XXXXXX", base);
    return mkdtemp(dir) ? 0 : -1;
}

static inline int fz_write(const char *dir, const char *name, const void *p, size_t n)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) return -1;
    int rc = fz_write_fd(fd, p, n);
    return close(fd) != 0 ? -1 : rc;
}

static inline int fz_rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb; (void)flag; (void)ftw;
    remove(path);
    return 0;
}

static inline void fz_rmdir(const char *dir)        /* dir and everything in it */
{
    nftw(dir, fz_rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* The input cut at NUL bytes into up to max parts (text formats never
 * hold a raw NUL, so a seed without one is all part 0, and the fuzzer
 * can grow the other parts by inserting a NUL).  Returns the count. */
static inline int fz_split(const uint8_t *data, size_t size, const uint8_t **part, size_t *len, int max)
{
    int k = 0;
    size_t start = 0;
    for (size_t i = 0; i <= size && k < max; i++)
        if (i == size || (data[i] == 0 && k + 1 < max)) {
            part[k] = data + start;
            len[k++] = i - start;
            start = i + 1;
        }
    return k;
}

#endif
