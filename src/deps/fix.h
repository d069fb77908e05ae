/* Appending missing distributions to a requirements file, byte for byte. */
#ifndef AFTERSHOCK_DEPS_FIX_H
#define AFTERSHOCK_DEPS_FIX_H

#include <stddef.h>

#include "util/err.h"

/* Returns the new contents of a requirements file: old (old_len bytes,
 * possibly NULL for a new file) unchanged, then one line per entry of
 * lines[]. The file's line ending (CRLF or LF) is reused; a missing final
 * line end is added, and a blank line closes a trailing "\" continuation
 * first. The caller frees the result; *out_len gets its length. */
char *fix_append(const char *old, size_t old_len, const char *const *lines, size_t n_lines,
                 size_t *out_len);

/* Appends lines to the file at path (creating it when missing) with an atomic
 * replace. Returns 0, or -1 with err set; the file is unchanged on failure. */
int fix_append_file(const char *path, const char *const *lines, size_t n_lines,
                    struct err *err);

#endif
