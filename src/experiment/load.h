/* Reading experiment files (JSON or YAML) into a jansson tree. */
#ifndef AFTERSHOCK_EXPERIMENT_LOAD_H
#define AFTERSHOCK_EXPERIMENT_LOAD_H

#include <jansson.h>
#include <stddef.h>

#include "util/err.h"

/* Largest experiment or variable file accepted, in bytes. */
#define EXPERIMENT_MAX_SIZE (16 * 1024 * 1024)

/* Parses text as JSON when name ends in ".json", or when it does not end in
 * ".yaml"/".yml" and its first non-blank byte is '{'; otherwise as YAML.
 * YAML follows what PyYAML's safe_load returns (YAML 1.1 scalars, anchors and
 * aliases, merge keys), and rejects any tag outside the standard ones.
 * Returns a new reference, or NULL with err set to "NAME:LINE:COLUMN: what is wrong". */
json_t *experiment_parse(const char *text, size_t len, const char *name, struct err *err);

/* Reads and parses a file with experiment_parse. The document must be a mapping. */
json_t *experiment_load(const char *path, struct err *err);

#endif
