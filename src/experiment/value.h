/* Comparing and formatting JSON values for tolerances, JSONPath filters and substitution. */
#ifndef AFTERSHOCK_EXPERIMENT_VALUE_H
#define AFTERSHOCK_EXPERIMENT_VALUE_H

#include <jansson.h>
#include <stdbool.h>

/* Stores the value of an integer or real in *out; false for anything else. */
bool value_number(const json_t *value, double *out);

/* Compares two values for equality: numbers by value (200 equals 200.0),
 * strings byte by byte, arrays item by item, objects key by key. */
bool value_equal(const json_t *a, const json_t *b);

/* Orders two numbers or two strings (byte order) into *order (-1, 0, 1).
 * Returns false when the values are not both numbers or both strings. */
bool value_compare(const json_t *a, const json_t *b, int *order);

/* Returns text for value that the caller frees: a string as it is, a real
 * with the fewest digits that read back to the same number ("0.1", "2.0"),
 * any other value as compact JSON. */
char *value_to_text(const json_t *value);

#endif
