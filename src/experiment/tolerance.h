/* Steady-state tolerances: checking a probe's output against what is expected. */
#ifndef AFTERSHOCK_EXPERIMENT_TOLERANCE_H
#define AFTERSHOCK_EXPERIMENT_TOLERANCE_H

#include <jansson.h>
#include <stdbool.h>

#include "util/err.h"

/* Checks that a tolerance is a bool, an integer, a string, a list of
 * scalars, or an object with `type` range (`range: [low, high]`), regex
 * (`pattern`) or jsonpath (`path`, optional `expect` and `count`). The
 * object forms take an optional `target`. A float is rejected. Values that
 * still contain a ${name} reference are accepted as they are. Returns 0, or
 * -1 with err saying what is wrong. */
int tolerance_validate(json_t *tolerance, struct err *err);

/* Checks output against tolerance and sets *met:
 * - true, false, an integer or a string: the tested value must equal it.
 *   The tested value is the `status` of an object output (the shape of http
 *   and process results), else the output itself. Numbers compare by value.
 * - a list: two numbers are an inclusive range [low, high], and any other
 *   list contains the accepted values. The tested value is as above.
 * - range: output[target] when `target` is set, else the tested value, must
 *   be a number (or a string holding one) within [low, high].
 * - regex: the PCRE2 pattern is searched anywhere in output[target], or,
 *   without a target, in the http `body`, else the process `stdout`, else
 *   the output. A value that is not a string is searched as JSON text.
 * - jsonpath: `path` selects from output[target] or the output, parsed as
 *   JSON first when it is a string holding JSON. With `count`, the number of
 *   matches must equal it; with a list `expect`, the matches must equal the
 *   list in order; with another `expect`, there must be at least one match
 *   and each must equal it; with neither, one match is enough.
 * A target key missing from the output means the tolerance is not met.
 * Returns 0, or -1 with err set when the tolerance is invalid or cannot be
 * evaluated (an invalid regex, say). */
int tolerance_check(json_t *tolerance, json_t *output, bool *met, struct err *err);

#endif
