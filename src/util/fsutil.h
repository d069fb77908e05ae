/* Whole-file reads and atomic writes. */
#ifndef AFTERSHOCK_UTIL_FSUTIL_H
#define AFTERSHOCK_UTIL_FSUTIL_H

#include <stddef.h>

#include "util/err.h"

/* Reads a whole file (at most max_size bytes) into a NUL-terminated buffer
 * the caller frees. Returns NULL and sets err on failure. */
char *fs_read_file(const char *path, size_t max_size, size_t *len, struct err *err);

/* Writes data to path atomically: a temporary file in the same folder is
 * written, flushed to disk and renamed over path, so readers see the old or
 * the new contents, never a part. Returns 0 or -1 with err set. */
int fs_write_atomic(const char *path, const void *data, size_t len, struct err *err);

/* Creates a folder and its parents (mode 0755). Returns 0 or -1 with err set. */
int fs_mkdirs(const char *path, struct err *err);

/* Creates the folders that will contain the file at path; nothing when
 * path has no folder part. Returns 0 or -1 with err set. */
int fs_mkdirs_for_file(const char *path, struct err *err);

#endif
