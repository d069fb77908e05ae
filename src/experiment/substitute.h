/* Configuration and secrets resolution, and ${name} substitution. */
#ifndef AFTERSHOCK_EXPERIMENT_SUBSTITUTE_H
#define AFTERSHOCK_EXPERIMENT_SUBSTITUTE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "experiment/problems.h"
#include "util/err.h"

/* Parses a --var argument "key[:type]=value" (type: str, int, float, bool,
 * json; default str) and sets it in vars. Returns 0 or -1 with err naming
 * the argument and what is wrong. */
int vars_parse_assignment(const char *text, json_t *vars, struct err *err);

/* Loads a --var-file (JSON or YAML mapping, or a .env file of KEY=VALUE
 * lines) into vars. A mapping whose only keys are `configuration` and
 * `secrets` (the Chaos Toolkit var file layout) contributes the keys inside
 * them. A .env file (name ending in ".env") also sets each variable in the
 * process environment, replacing any value it had, so `type: env` entries
 * read it. Returns 0 or -1 with err set. */
int vars_load_file(const char *path, json_t *vars, struct err *err);

/* Parses .env text into vars: KEY=VALUE lines, blank lines and '#'
 * comments, an optional "export " prefix, values in single quotes (taken
 * as they are) or double quotes (with \n, \t, \" and \\ escapes), and
 * unquoted values trimmed, with a " #" comment removed. name is used in
 * errors as "NAME:LINE: ...". Sets no environment variable. Returns 0 or -1
 * with err set. */
int vars_parse_dotenv(const char *text, size_t len, const char *name, json_t *vars,
                      struct err *err);

/* Converts text to the named type: str (also string, bytes), int (also
 * integer), float (also number), bool (true/false, yes/no, on/off, 1/0, in
 * any case) or json. Returns a new reference, or NULL with err saying why. */
json_t *vars_convert(const char *type, const char *text, struct err *err);

/* True when name can be referenced as ${name}: a letter or '_', then
 * letters, digits or '_'. */
bool vars_is_valid_name(const char *name);

/* Builds the substitution values of an experiment: every `configuration`
 * key (plain values, and `type: env` entries read from the environment with
 * `default` and `env_var_type`), then every key of every `secrets` scope
 * (inline values and `type: env`), then overrides (from --var) on top.
 * When a name is declared twice, overrides win over configuration, and
 * configuration over secrets; among secret scopes the first one wins.
 * A missing environment variable without a default is a problem naming the
 * key and the variable, unless overrides set that key. Shape problems
 * (vault secrets, probe configuration) are left to experiment_validate.
 * Returns a new object, or NULL when problems were added. */
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
