/* Steady-state tolerances: checking their shape, and judging a probe's output against them. */
#include "experiment/tolerance.h"

#define PCRE2_CODE_UNIT_WIDTH 8

#include <ctype.h>
#include <math.h>
#include <pcre2.h>
#include <stdlib.h>
#include <string.h>

#include "experiment/jsonpath.h"
#include "experiment/value.h"

/* True for a string with a "${" that substitution has not replaced yet. */
static bool is_deferred(const json_t *value)
{
    const char *text = json_string_value(value);

    if (text == NULL)
        return false;
    for (const char *p = strstr(text, "${"); p != NULL; p = strstr(p + 1, "${")) {
        if (p == text || p[-1] != '$')
            return true;
    }
    return false;
}

static bool is_number_or_deferred(const json_t *value)
{
    return json_is_number(value) || is_deferred(value);
}

static pcre2_code *compile_regex(const char *pattern, size_t len, struct err *err)
{
    int code;
    PCRE2_SIZE offset;
    pcre2_code *re = pcre2_compile((PCRE2_SPTR)pattern, len,
                                   PCRE2_UTF | PCRE2_MATCH_INVALID_UTF, &code, &offset, NULL);

    if (re == NULL) {
        PCRE2_UCHAR message[256];
        pcre2_get_error_message(code, message, sizeof(message));
        err_set(err, "invalid regex pattern '%.200s' at offset %zu: %s", pattern, (size_t)offset,
                (const char *)message);
    }
    return re;
}

static int validate_list(const json_t *list, struct err *err)
{
    size_t i;
    json_t *item;

    if (json_array_size(list) == 0)
        return err_set(err, "an empty list tolerance matches nothing; list the accepted values");
    json_array_foreach((json_t *)list, i, item) {
        if (!json_is_string(item) && !json_is_number(item) && !json_is_boolean(item))
            return err_set(err, "list tolerance item %zu must be a string, a number or a boolean",
                           i);
    }
    if (json_array_size(list) == 2) {
        double low, high;
        if (value_number(json_array_get(list, 0), &low) &&
            value_number(json_array_get(list, 1), &high) && low > high)
            return err_set(err, "a list of two numbers is a range [low, high], and %g is greater "
                                "than %g",
                           low, high);
    }
    return 0;
}

static int validate_range(const json_t *tolerance, struct err *err)
{
    json_t *range = json_object_get(tolerance, "range");
    double low, high;

    if (range == NULL)
        return err_set(err, "a range tolerance needs 'range: [low, high]'");
    if (!json_is_array(range) || json_array_size(range) != 2 ||
        !is_number_or_deferred(json_array_get(range, 0)) ||
        !is_number_or_deferred(json_array_get(range, 1)))
        return err_set(err, "'range' must be a list of two numbers [low, high]");
    if (value_number(json_array_get(range, 0), &low) &&
        value_number(json_array_get(range, 1), &high) && low > high)
        return err_set(err, "range lower bound %g is greater than upper bound %g", low, high);
    return 0;
}

static int validate_regex(const json_t *tolerance, struct err *err)
{
    json_t *pattern = json_object_get(tolerance, "pattern");
    pcre2_code *re;

    if (!json_is_string(pattern))
        return err_set(err, "a regex tolerance needs a 'pattern' string");
    if (is_deferred(pattern))
        return 0;
    re = compile_regex(json_string_value(pattern), json_string_length(pattern), err);
    if (re == NULL)
        return -1;
    pcre2_code_free(re);
    return 0;
}

static int validate_jsonpath(const json_t *tolerance, struct err *err)
{
    json_t *path = json_object_get(tolerance, "path");
    json_t *count = json_object_get(tolerance, "count");

    if (!json_is_string(path) || json_string_length(path) == 0)
        return err_set(err, "a jsonpath tolerance needs a non-empty 'path' string");
    if (count != NULL && !is_deferred(count) &&
        (!json_is_integer(count) || json_integer_value(count) < 0))
        return err_set(err, "'count' must be a non-negative integer");
    if (is_deferred(path))
        return 0;
    return jsonpath_check(json_string_value(path), err);
}

static int validate_object(const json_t *tolerance, struct err *err)
{
    json_t *type = json_object_get(tolerance, "type");
    json_t *target = json_object_get(tolerance, "target");
    const char *name = json_string_value(type);

    if (target != NULL && !json_is_string(target))
        return err_set(err, "'target' must be a string naming a key of the probe's output, such "
                            "as 'body', 'stdout' or 'status'");
    if (name == NULL)
        return err_set(err, "a tolerance object needs a 'type': range, regex or jsonpath");
    if (strcmp(name, "range") == 0)
        return validate_range(tolerance, err);
    if (strcmp(name, "regex") == 0)
        return validate_regex(tolerance, err);
    if (strcmp(name, "jsonpath") == 0)
        return validate_jsonpath(tolerance, err);
    if (strcmp(name, "probe") == 0)
        return err_set(err, "probe tolerances are not supported, because they run Python code; "
                            "use a regex or jsonpath tolerance");
    return err_set(err, "unknown tolerance type '%.100s'; use range, regex or jsonpath", name);
}

int tolerance_validate(json_t *tolerance, struct err *err)
{
    switch (json_typeof(tolerance)) {
    case JSON_TRUE:
    case JSON_FALSE:
    case JSON_INTEGER:
    case JSON_STRING:
        return 0;
    case JSON_REAL:
        return err_set(err,
                       "float tolerance %g is not supported, because a measured value rarely "
                       "equals a float exactly; use a range tolerance [low, high]",
                       json_real_value(tolerance));
    case JSON_ARRAY:
        return validate_list(tolerance, err);
    case JSON_OBJECT:
        return validate_object(tolerance, err);
    default:
        return err_set(err, "a tolerance must be a boolean, an integer, a string, a list or an "
                            "object with a type, not null");
    }
}

/* The value scalar and list tolerances compare: the `status` of an http or
 * process result, or the output itself. */
static json_t *tested_value(json_t *output)
{
    json_t *status = json_is_object(output) ? json_object_get(output, "status") : NULL;

    return status != NULL ? status : output;
}

/* Returns output[target] when the tolerance names a target, NULL when that
 * key is missing, or fallback when there is no target. */
static json_t *target_value(json_t *tolerance, json_t *output, json_t *fallback)
{
    const char *target = json_string_value(json_object_get(tolerance, "target"));

    if (target == NULL)
        return fallback;
    return json_is_object(output) ? json_object_get(output, target) : NULL;
}

static bool check_list(json_t *list, json_t *value)
{
    double low, high, number;
    size_t i;
    json_t *item;

    if (json_array_size(list) == 2 && value_number(json_array_get(list, 0), &low) &&
        value_number(json_array_get(list, 1), &high))
        return value_number(value, &number) && low <= number && number <= high;
    json_array_foreach(list, i, item) {
        if (value_equal(item, value))
            return true;
    }
    return false;
}

/* Reads a number, or a string of only a number and blanks (a process's stdout). */
static bool read_number(json_t *value, double *out)
{
    const char *text = json_string_value(value);
    char *end = NULL;

    if (value_number(value, out))
        return true;
    if (text == NULL || strlen(text) != json_string_length(value) || strpbrk(text, "xX"))
        return false;
    *out = strtod(text, &end);
    if (end == text)
        return false;
    while (isspace((unsigned char)*end))
        end++;
    return *end == '\0' && isfinite(*out);
}

static bool check_range(json_t *tolerance, json_t *output)
{
    json_t *range = json_object_get(tolerance, "range");
    json_t *value = target_value(tolerance, output, tested_value(output));
    double low, high, number;

    if (value == NULL || !read_number(value, &number))
        return false;
    if (!value_number(json_array_get(range, 0), &low) ||
        !value_number(json_array_get(range, 1), &high))
        return false;
    return low <= number && number <= high;
}

/* The text a regex without a target searches: an http body, else a
 * process's stdout, else the whole output. */
static json_t *regex_subject(json_t *tolerance, json_t *output)
{
    json_t *fallback = output;

    if (json_is_object(output)) {
        if (json_object_get(output, "body") != NULL)
            fallback = json_object_get(output, "body");
        else if (json_object_get(output, "stdout") != NULL)
            fallback = json_object_get(output, "stdout");
    }
    return target_value(tolerance, output, fallback);
}

static int check_regex(json_t *tolerance, json_t *output, bool *met, struct err *err)
{
    json_t *pattern = json_object_get(tolerance, "pattern");
    json_t *subject = regex_subject(tolerance, output);
    pcre2_match_data *match = NULL;
    pcre2_code *re;
    char *text;
    int rc;

    *met = false;
    if (subject == NULL)
        return 0;
    re = compile_regex(json_string_value(pattern), json_string_length(pattern), err);
    if (re == NULL)
        return -1;
    text = value_to_text(subject);
    match = pcre2_match_data_create_from_pattern(re, NULL);
    rc = pcre2_match(re, (PCRE2_SPTR)text,
                     json_is_string(subject) ? json_string_length(subject) : strlen(text), 0, 0,
                     match, NULL);
    if (rc >= 0) {
        *met = true;
        rc = 0;
    } else if (rc == PCRE2_ERROR_NOMATCH) {
        rc = 0;
    } else {
        PCRE2_UCHAR message[256];
        pcre2_get_error_message(rc, message, sizeof(message));
        rc = err_set(err, "regex pattern '%.200s' could not be applied: %s",
                     json_string_value(pattern), (const char *)message);
    }
    pcre2_match_data_free(match);
    pcre2_code_free(re);
    free(text);
    return rc;
}

/* Applies the jsonpath rule. With `count`, the number of matches must
 * equal it. With a list `expect`, the matches must equal that list in
 * order. With a scalar `expect`, there must be at least one match and every
 * match must equal it. With neither, one match is enough. */
static bool judge_matches(json_t *tolerance, json_t *matches)
{
    json_t *count = json_object_get(tolerance, "count");
    json_t *expect = json_object_get(tolerance, "expect");
    size_t n = json_array_size(matches);
    size_t i;
    json_t *item;

    if (count != NULL && (!json_is_integer(count) || (json_int_t)n != json_integer_value(count)))
        return false;
    if (expect == NULL)
        return count != NULL || n > 0;
    if (json_is_array(expect))
        return value_equal(matches, expect);
    if (n == 0)
        return false;
    json_array_foreach(matches, i, item) {
        if (!value_equal(item, expect))
            return false;
    }
    return true;
}

static int check_jsonpath(json_t *tolerance, json_t *output, bool *met, struct err *err)
{
    const char *path = json_string_value(json_object_get(tolerance, "path"));
    json_t *doc = target_value(tolerance, output, output);
    json_t *parsed = NULL, *matches;
    int rc;

    *met = false;
    if (doc == NULL)
        return 0;
    /* A body or stdout that contains JSON text is queried as that JSON. */
    if (json_is_string(doc))
        parsed = json_loadb(json_string_value(doc), json_string_length(doc), JSON_DECODE_ANY,
                            NULL);
    matches = json_array();
    rc = jsonpath_query(path, parsed != NULL ? parsed : doc, matches, err);
    if (rc == 0)
        *met = judge_matches(tolerance, matches);
    json_decref(matches);
    json_decref(parsed);
    return rc;
}

int tolerance_check(json_t *tolerance, json_t *output, bool *met, struct err *err)
{
    const char *type;

    *met = false;
    if (tolerance_validate(tolerance, err) != 0)
        return -1;
    if (output == NULL)
        output = json_null();

    switch (json_typeof(tolerance)) {
    case JSON_TRUE:
    case JSON_FALSE:
    case JSON_INTEGER:
    case JSON_STRING:
        *met = value_equal(tested_value(output), tolerance);
        return 0;
    case JSON_ARRAY:
        *met = check_list(tolerance, tested_value(output));
        return 0;
    default:
        break;
    }

    type = json_string_value(json_object_get(tolerance, "type"));
    if (strcmp(type, "range") == 0) {
        *met = check_range(tolerance, output);
        return 0;
    }
    if (strcmp(type, "regex") == 0)
        return check_regex(tolerance, output, met, err);
    return check_jsonpath(tolerance, output, met, err);
}
