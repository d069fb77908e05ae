/* A set of strings (open addressing, FNV-1a), for module and distribution names. */
#ifndef AFTERSHOCK_DEPS_STRSET_H
#define AFTERSHOCK_DEPS_STRSET_H

#include <stdbool.h>
#include <stddef.h>

/* Invariant: slots has cap entries (a power of two, or 0), count of them non-NULL,
 * and count stays below three quarters of cap. */
struct strset {
    char **slots;
    size_t cap, count;
};

#define STRSET_INIT { NULL, 0, 0 }

/* Adds a copy of s; returns true when it was not there before. */
bool strset_add(struct strset *set, const char *s);
bool strset_addn(struct strset *set, const char *s, size_t len);
bool strset_has(const struct strset *set, const char *s);
bool strset_hasn(const struct strset *set, const char *s, size_t len);
void strset_release(struct strset *set);

#endif
