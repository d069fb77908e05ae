/* Configuration and secrets resolution, and ${name} substitution. */
#ifndef AFTERSHOCK_EXPERIMENT_SUBSTITUTE_H
#define AFTERSHOCK_EXPERIMENT_SUBSTITUTE_H

#include <jansson.h>

#include "experiment/problems.h"
#include "util/err.h"

/* Parses a --var argument "key[:type]=value" (type: str, int, float, bool,
 * json; default str) and sets it in vars. Returns 0 or -1 with err naming
 * the argument and what is wrong. */
int vars_parse_assignment(const char *text, json_t *vars, struct err *err);

/* Loads a --var-file (JSON or YAML mapping, or a .env file of KEY=VALUE
 * lines) into vars. Returns 0 or -1 with err set. */
int vars_load_file(const char *path, json_t *vars, struct err *err);

/* Builds the substitution values of an experiment: every `configuration`
 * key (plain values, and `type: env` entries read from the environment with
 * `default` and `env_var_type`), then every key of every `secrets` scope
 * (inline values and `type: env`), then overrides (from --var) on top.
 * A missing environment variable without a default is a problem naming the
 * key and the variable. Returns a new object, or NULL when problems were added. */
json_t *experiment_resolve_values(json_t *experiment, json_t *overrides,
                                  struct problems *problems);

/* Replaces ${name} in every string under node, in place. A string that is
 * exactly "${name}" takes the value with its JSON type; inside a longer
 * string the value is formatted as text. "$${" is a literal "${". A name
 * that does not resolve is a problem naming the field and the key.
 * field is the dotted path of node, used in problems. Returns the number of
 * problems added. */
int experiment_substitute(json_t *node, json_t *values, const char *field,
                          struct problems *problems);

#endif
