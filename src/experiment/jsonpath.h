/* A JSONPath subset for tolerances. */
#ifndef AFTERSHOCK_EXPERIMENT_JSONPATH_H
#define AFTERSHOCK_EXPERIMENT_JSONPATH_H

#include <jansson.h>

#include "util/err.h"

/* Evaluates expr against doc and appends every match (new references) to the
 * array matches, in document order. Supported: `$`, `.name`, `['name']`,
 * `[N]` (negative from the end), `[*]` and `.*`, `..` (recursive descent)
 * before a name, `*` or brackets, `[start:end:step]`, `[a,b]` unions of
 * indexes or names, and filters `[?(@.name OP literal)]` with ==, =, !=, <,
 * <=, >, >= and `[?(@.name)]` existence. A path without `$` starts at the
 * root. A filter applied to an array keeps the items that pass. Applied to
 * any other value, or after `..`, it keeps that value when it passes.
 * Anything else (script expressions, functions, `&&`) is rejected: returns
 * -1 with err naming the expression, the position and the unsupported part;
 * otherwise returns 0. */
int jsonpath_query(const char *expr, json_t *doc, json_t *matches, struct err *err);

/* Checks that expr parses, without evaluating it. Returns 0, or -1 with err
 * set as jsonpath_query does. */
int jsonpath_check(const char *expr, struct err *err);

#endif
