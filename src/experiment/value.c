/* Comparing and formatting JSON values for tolerances, JSONPath filters and substitution. */
#include "experiment/value.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool value_number(const json_t *value, double *out)
{
    if (json_is_integer(value)) {
        *out = (double)json_integer_value(value);
        return true;
    }
    if (json_is_real(value)) {
        *out = json_real_value(value);
        return true;
    }
    return false;
}

static bool objects_equal(const json_t *a, const json_t *b)
{
    const char *key;
    json_t *value;

    if (json_object_size(a) != json_object_size(b))
        return false;
    json_object_foreach((json_t *)a, key, value) {
        json_t *other = json_object_get(b, key);
        if (other == NULL || !value_equal(value, other))
            return false;
    }
    return true;
}

bool value_equal(const json_t *a, const json_t *b)
{
    double x, y;

    if (a == NULL || b == NULL)
        return false;
    if (json_is_integer(a) && json_is_integer(b))
        return json_integer_value(a) == json_integer_value(b);
    if (value_number(a, &x) && value_number(b, &y))
        return x == y;
    if (json_typeof(a) != json_typeof(b))
        return false;

    switch (json_typeof(a)) {
    case JSON_STRING:
        return json_string_length(a) == json_string_length(b) &&
               memcmp(json_string_value(a), json_string_value(b), json_string_length(a)) == 0;
    case JSON_ARRAY:
        if (json_array_size(a) != json_array_size(b))
            return false;
        for (size_t i = 0; i < json_array_size(a); i++) {
            if (!value_equal(json_array_get(a, i), json_array_get(b, i)))
                return false;
        }
        return true;
    case JSON_OBJECT:
        return objects_equal(a, b);
    default:
        /* true, false and null: equal types are equal values */
        return true;
    }
}

bool value_compare(const json_t *a, const json_t *b, int *order)
{
    double x, y;

    if (json_is_integer(a) && json_is_integer(b)) {
        json_int_t i = json_integer_value(a), j = json_integer_value(b);
        *order = (i > j) - (i < j);
        return true;
    }
    if (value_number(a, &x) && value_number(b, &y)) {
        *order = (x > y) - (x < y);
        return true;
    }
    if (json_is_string(a) && json_is_string(b)) {
        size_t n = json_string_length(a), m = json_string_length(b);
        int c = memcmp(json_string_value(a), json_string_value(b), n < m ? n : m);
        *order = c != 0 ? (c > 0) - (c < 0) : (n > m) - (n < m);
        return true;
    }
    return false;
}

/* Formats a real with the fewest significant digits that read back to the
 * same double, keeping a ".0" on whole numbers so the text stays a real. */
static char *real_to_text(double number)
{
    char buf[64];

    for (int precision = 1; precision <= 17; precision++) {
        snprintf(buf, sizeof(buf), "%.*g", precision, number);
        if (strtod(buf, NULL) == number)
            break;
    }
    if (strpbrk(buf, ".eEn") == NULL)
        strcat(buf, ".0");
    char *text = strdup(buf);
    if (text == NULL)
        abort();
    return text;
}

char *value_to_text(const json_t *value)
{
    char *text;

    if (json_is_string(value)) {
        text = malloc(json_string_length(value) + 1);
        if (text == NULL)
            abort();
        memcpy(text, json_string_value(value), json_string_length(value) + 1);
        return text;
    }
    if (json_is_real(value))
        return real_to_text(json_real_value(value));
    text = json_dumps(value, JSON_ENCODE_ANY | JSON_COMPACT);
    if (text == NULL)
        abort();
    return text;
}
