/* fsutil.h - the few file and process helpers the runtime's caches share
 * (runtime/jit_c.c, nvrtc.c, cuda_exec.c): whole-file reads, atomic
 * writes, and running a compiler with its output in a log.  None of them
 * prints or exits; all return errors. */
#ifndef UEAJ_FSUTIL_H
#define UEAJ_FSUTIL_H

#include <stddef.h>

/* The whole file, NUL-terminated, malloc'd (the caller frees); its length
 * in *len.  NULL when it cannot be opened or read, or out of memory. */
char *fs_read_all(const char *path, size_t *len);
/* Writes data to path through a temporary file and a rename, so readers
 * never see a half-written file.  0, or -1 (nothing is left behind). */
int fs_write_atomic(const char *path, const void *data, size_t n);
/* Runs argv (execvp) with stdout and stderr into log_path (NULL: discarded);
 * its exit status, 127 when it cannot be started, 128 when killed, -1 when
 * fork fails. */
int fs_run(char *const *argv, const char *log_path);

#endif
