/* UTF-8 validation, so captured output can always be stored as a JSON string. */
#ifndef AFTERSHOCK_UTIL_UTF8_H
#define AFTERSHOCK_UTIL_UTF8_H

#include <stddef.h>

/* Returns a NUL-terminated copy of data (caller frees) in which every byte
 * that is not part of a valid UTF-8 sequence, and every NUL, is replaced by
 * U+FFFD. */
char *utf8_sanitize(const char *data, size_t len);

#endif
