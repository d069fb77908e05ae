/* The git pre-push hook that runs `aftershock check`. */
#ifndef AFTERSHOCK_CHECK_HOOK_H
#define AFTERSHOCK_CHECK_HOOK_H

#include <stdbool.h>

#include "util/err.h"

struct hook_result {
    char *path;          /* the hook written */
    char *chained_path;  /* the earlier hook it runs first, or NULL */
};

/* Writes the pre-push hook of the repository at root, which runs self
 * (or `aftershock` from PATH when self is gone) with `check`. A hook that
 * aftershock did not write is kept. Without force nothing is written and 1
 * is returned. With force that hook is renamed to pre-push.chained, and the
 * new hook runs it first. Returns 0, 1, or -1 with err set. */
int hook_install(const char *root, const char *self, bool force, struct hook_result *out,
                 struct err *err);

void hook_result_release(struct hook_result *result);

#endif
