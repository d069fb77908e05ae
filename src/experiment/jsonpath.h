/* A JSONPath subset for tolerances. */
#ifndef AFTERSHOCK_EXPERIMENT_JSONPATH_H
#define AFTERSHOCK_EXPERIMENT_JSONPATH_H

#include <jansson.h>

#include "util/err.h"

/* Evaluates expr against doc and appends every match (new references) to the
 * array matches. Supported: `$`, `.name`, `['name']`, `[N]` (negative from
 * the end), `[*]` and `.*`, `..name` (recursive descent), `[start:end]`,
 * `[a,b]` unions of indexes or names, and filters `[?(@.name OP literal)]`
 * with ==, !=, <, <=, >, >= and `[?(@.name)]` existence. Anything else is
 * rejected: returns -1 with err naming the expression, the position and the
 * unsupported part; otherwise returns 0. */
int jsonpath_query(const char *expr, json_t *doc, json_t *matches, struct err *err);

#endif
