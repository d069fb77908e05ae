/* Steady-state tolerances: checking a probe's output against what is expected. */
#ifndef AFTERSHOCK_EXPERIMENT_TOLERANCE_H
#define AFTERSHOCK_EXPERIMENT_TOLERANCE_H

#include <jansson.h>
#include <stdbool.h>

#include "util/err.h"

/* Checks that a tolerance is one of: bool, integer, string, list of
 * scalars, or an object with `type` range (`range: [low, high]`), regex
 * (`pattern`), or jsonpath (`path`, optional `expect`, `count`); the object
 * forms take an optional `target`. A float is rejected. Returns 0, or -1
 * with err saying what is wrong. */
int tolerance_validate(json_t *tolerance, struct err *err);

/* Checks output against tolerance and sets *met. When output is an object
 * with a `status` key (the shape of http and process results), bool, integer
 * and list tolerances compare against that status; `target` picks a key of
 * the output for range, regex and jsonpath. Returns 0, or -1 with err set when
 * the tolerance cannot be evaluated (an invalid regex, say). */
int tolerance_check(json_t *tolerance, json_t *output, bool *met, struct err *err);

#endif
