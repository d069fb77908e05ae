/* Private interface of the YAML reader shared by load.c, yaml_tree.c and yaml_scalar.c. */
#ifndef AFTERSHOCK_EXPERIMENT_YAML_INTERNAL_H
#define AFTERSHOCK_EXPERIMENT_YAML_INTERNAL_H

#include <jansson.h>
#include <stddef.h>

#include "util/err.h"

/* Prefix libyaml gives the standard tags once it has expanded "!!". */
#define YAML_STANDARD_TAG_PREFIX "tag:yaml.org,2002:"

/* Deepest nesting of mappings and sequences accepted. */
#define YAML_MAX_DEPTH 1000

/* Most nodes one document may build, counting every copy an alias or a
 * merge key makes, so a small file cannot expand into a huge tree. */
#define YAML_MAX_NODES 200000

/* Parses one YAML document into a new reference, as load.h describes.
 * An empty stream gives JSON null. Errors are "NAME:LINE:COLUMN: message". */
json_t *yaml_parse(const char *text, size_t len, const char *name, struct err *err);

/* Resolves an untagged plain scalar the way PyYAML's safe_load does under
 * YAML 1.1: null, bool, int, float, else string. Returns a new reference,
 * or NULL with a message in why (for a number JSON cannot hold). */
json_t *yaml_scalar_plain(const char *text, size_t len, char *why, size_t why_size);

/* Builds a scalar that carries an explicit standard tag; tag is the part
 * after YAML_STANDARD_TAG_PREFIX ("str", "int", "float", "bool", "null").
 * Returns a new reference, or NULL with a message in why. */
json_t *yaml_scalar_tagged(const char *tag, const char *text, size_t len, char *why,
                           size_t why_size);

#endif
