/* Unit tests for tolerances: validation of each form, and checks against http and process outputs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "experiment/tolerance.h"

static const char http_output[] =
    "{\"status\": 200, \"headers\": {\"content-type\": \"application/json\"}, "
    "\"body\": {\"foo\": [{\"baz\": \"hello\"}, {\"baz\": \"bonjour\"}], \"ok\": true, "
    "\"load\": 0.75}}";

static const char process_output[] =
    "{\"status\": 0, \"stdout\": \"welcome=hello\\nload 42\\n\", \"stderr\": \"warning\"}";

static json_t *parse_json(const char *text)
{
    json_error_t error;
    json_t *value = json_loads(text, JSON_DECODE_ANY, &error);

    if (value == NULL)
        fail_msg("test JSON '%s' does not parse: %s", text, error.text);
    return value;
}

/* Returns whether tolerance_check finds output within tolerance, failing on an error. */
static bool met(const char *tolerance_text, const char *output_text)
{
    json_t *tolerance = parse_json(tolerance_text);
    json_t *output = parse_json(output_text);
    struct err err;
    bool result = false;

    if (tolerance_check(tolerance, output, &result, &err) != 0)
        fail_msg("tolerance %s could not be checked: %s", tolerance_text, err.msg);
    json_decref(tolerance);
    json_decref(output);
    return result;
}

/* Fails unless the tolerance is rejected with an error containing message. */
static void assert_invalid(const char *tolerance_text, const char *message)
{
    json_t *tolerance = parse_json(tolerance_text);
    json_t *output = parse_json("0");
    struct err err;
    bool result = true;

    memset(&err, 0, sizeof(err));
    if (tolerance_validate(tolerance, &err) == 0)
        fail_msg("tolerance %s was accepted, expected '%s'", tolerance_text, message);
    if (strstr(err.msg, message) == NULL)
        fail_msg("error '%s' does not contain '%s'", err.msg, message);
    assert_int_equal(tolerance_check(tolerance, output, &result, &err), -1);
    assert_false(result);
    json_decref(tolerance);
    json_decref(output);
}

static void assert_valid(const char *tolerance_text)
{
    json_t *tolerance = parse_json(tolerance_text);
    struct err err;

    if (tolerance_validate(tolerance, &err) != 0)
        fail_msg("tolerance %s was rejected: %s", tolerance_text, err.msg);
    json_decref(tolerance);
}

static void test_tolerance_valid_forms(void **state)
{
    (void)state;
    assert_valid("true");
    assert_valid("200");
    assert_valid("\"OK\"");
    assert_valid("[200, 204]");
    assert_valid("[\"a\", 1, true]");
    assert_valid("{\"type\": \"range\", \"range\": [6.4, 7.5], \"target\": \"body\"}");
    assert_valid("{\"type\": \"regex\", \"pattern\": \"^welcome=h.llo$\"}");
    assert_valid("{\"type\": \"jsonpath\", \"path\": \"$.foo[*].baz\", \"expect\": 4, "
                 "\"count\": 1}");
    assert_valid("{\"type\": \"range\", \"range\": [\"${low}\", 10]}");
    assert_valid("{\"type\": \"regex\", \"pattern\": \"${pattern}(\"}");
}

static void test_tolerance_float_rejected(void **state)
{
    (void)state;
    assert_invalid("0.5", "float tolerance 0.5 is not supported");
    assert_invalid("200.0", "use a range tolerance");
}

static void test_tolerance_invalid_forms_rejected(void **state)
{
    (void)state;
    assert_invalid("null", "not null");
    assert_invalid("[]", "an empty list tolerance matches nothing");
    assert_invalid("[1, [2]]", "list tolerance item 1 must be");
    assert_invalid("[10, 1]", "10 is greater than 1");
    assert_invalid("{}", "a tolerance object needs a 'type'");
    assert_invalid("{\"type\": 5}", "a tolerance object needs a 'type'");
    assert_invalid("{\"type\": \"nope\"}", "unknown tolerance type 'nope'");
    assert_invalid("{\"type\": \"probe\", \"provider\": {}}", "probe tolerances are not supported");
    assert_invalid("{\"type\": \"regex\", \"pattern\": \"x\", \"target\": 1}",
                   "'target' must be a string");
}

static void test_tolerance_range_malformed(void **state)
{
    (void)state;
    assert_invalid("{\"type\": \"range\"}", "a range tolerance needs 'range: [low, high]'");
    assert_invalid("{\"type\": \"range\", \"range\": [1]}", "'range' must be a list of two");
    assert_invalid("{\"type\": \"range\", \"range\": [1, \"x\"]}", "must be a list of two numbers");
    assert_invalid("{\"type\": \"range\", \"range\": [5, 1]}",
                   "range lower bound 5 is greater than upper bound 1");
}

static void test_tolerance_regex_malformed(void **state)
{
    (void)state;
    assert_invalid("{\"type\": \"regex\"}", "a regex tolerance needs a 'pattern' string");
    assert_invalid("{\"type\": \"regex\", \"pattern\": \"a(b\"}",
                   "invalid regex pattern 'a(b' at offset 3");
    assert_invalid("{\"type\": \"regex\", \"pattern\": \"[z-a]\"}", "invalid regex pattern");
}

static void test_tolerance_jsonpath_malformed(void **state)
{
    (void)state;
    assert_invalid("{\"type\": \"jsonpath\"}", "a jsonpath tolerance needs a non-empty 'path'");
    assert_invalid("{\"type\": \"jsonpath\", \"path\": \"\"}", "non-empty 'path'");
    assert_invalid("{\"type\": \"jsonpath\", \"path\": \"$[(@.length-1)]\"}",
                   "script expressions");
    assert_invalid("{\"type\": \"jsonpath\", \"path\": \"$.a\", \"count\": -1}",
                   "'count' must be a non-negative integer");
    assert_invalid("{\"type\": \"jsonpath\", \"path\": \"$.a\", \"count\": 1.5}",
                   "'count' must be a non-negative integer");
}

static void test_tolerance_scalars_compare_status(void **state)
{
    (void)state;
    assert_true(met("200", http_output));
    assert_false(met("404", http_output));
    assert_true(met("0", process_output));
    assert_false(met("1", process_output));
    assert_true(met("200", "200.0"));
    assert_false(met("200", "\"200\""));
    assert_true(met("true", "true"));
    assert_false(met("true", "1"));
    assert_false(met("false", "null"));
    assert_true(met("\"OK\"", "\"OK\""));
    assert_false(met("\"OK\"", "\"ok\""));
    assert_true(met("\"up\"", "{\"status\": \"up\"}"));
}

static void test_tolerance_lists(void **state)
{
    (void)state;
    /* Two numbers are inclusive bounds. */
    assert_true(met("[200, 204]", "{\"status\": 202}"));
    assert_true(met("[200, 204]", "{\"status\": 204}"));
    assert_false(met("[200, 204]", "{\"status\": 205}"));
    assert_true(met("[0.5, 1.5]", "1"));
    /* Any other list contains the accepted values. */
    assert_true(met("[200, 201, 204]", "{\"status\": 204}"));
    assert_false(met("[200, 201, 204]", "{\"status\": 202}"));
    assert_true(met("[\"a\", \"b\"]", "\"b\""));
    assert_true(met("[7]", "7"));
    assert_false(met("[\"200\", \"x\"]", "200"));
}

static void test_tolerance_range(void **state)
{
    (void)state;
    assert_true(met("{\"type\": \"range\", \"range\": [199, 299]}", http_output));
    assert_true(met("{\"type\": \"range\", \"range\": [0.5, 1], \"target\": \"body\"}", "{\"body\": 0.75}"));
    assert_false(met("{\"type\": \"range\", \"range\": [0.8, 1], \"target\": \"body\"}", "{\"body\": 0.75}"));
    assert_true(met("{\"type\": \"range\", \"range\": [40, 45], \"target\": \"stdout\"}",
                    "{\"status\": 0, \"stdout\": \" 42\\n\"}"));
    assert_false(met("{\"type\": \"range\", \"range\": [40, 45], \"target\": \"stdout\"}",
                     "{\"status\": 0, \"stdout\": \"42 apples\"}"));
    assert_false(met("{\"type\": \"range\", \"range\": [0, 1], \"target\": \"missing\"}",
                     http_output));
    assert_false(met("{\"type\": \"range\", \"range\": [0, 1]}", "\"abc\""));
}

static void test_tolerance_regex(void **state)
{
    (void)state;
    assert_true(met("{\"type\": \"regex\", \"pattern\": \"welcome=h.llo\", \"target\": \"stdout\"}",
                    process_output));
    /* The pattern is searched anywhere, not anchored at the start. */
    assert_true(met("{\"type\": \"regex\", \"pattern\": \"load [0-9]+\"}", process_output));
    assert_false(met("{\"type\": \"regex\", \"pattern\": \"^load\"}", process_output));
    assert_true(met("{\"type\": \"regex\", \"pattern\": \"(?m)^load\"}", process_output));
    assert_true(met("{\"type\": \"regex\", \"pattern\": \"warn\", \"target\": \"stderr\"}",
                    process_output));
    /* Without a target, an http result's JSON body is searched as text. */
    assert_true(met("{\"type\": \"regex\", \"pattern\": \"\\\"baz\\\":\\\\s*\\\"bonjour\\\"\"}",
                    http_output));
    assert_false(met("{\"type\": \"regex\", \"pattern\": \"application/json\"}", http_output));
    assert_true(met("{\"type\": \"regex\", \"pattern\": \"^2\\\\d\\\\d$\", \"target\": \"status\"}",
                    http_output));
    assert_true(met("{\"type\": \"regex\", \"pattern\": \"é\"}", "\"caf\\u00e9\""));
    assert_false(met("{\"type\": \"regex\", \"pattern\": \"x\", \"target\": \"nope\"}",
                     process_output));
}

static void test_tolerance_regex_invalid_utf8_subject(void **state)
{
    json_t *tolerance = parse_json("{\"type\": \"regex\", \"pattern\": \"b\"}");
    json_t *output = json_object();
    struct err err;
    bool result = false;

    (void)state;
    /* jansson refuses invalid UTF-8, so the string is built without its check. */
    json_object_set_new(output, "status", json_integer(0));
    json_object_set_new(output, "stdout", json_stringn_nocheck("a\xff\xfe b", 5));
    assert_int_equal(tolerance_check(tolerance, output, &result, &err), 0);
    assert_true(result);
    json_decref(tolerance);
    json_decref(output);
}

static void test_tolerance_jsonpath_expect_list(void **state)
{
    (void)state;
    /* The tutorial's example: the matches must equal the list, in order. */
    assert_true(met("{\"type\": \"jsonpath\", \"path\": \"$.foo.*[?(@.baz)].baz\", "
                    "\"expect\": [\"hello\", \"bonjour\"], \"target\": \"body\"}",
                    http_output));
    assert_false(met("{\"type\": \"jsonpath\", \"path\": \"$.foo.*[?(@.baz)].baz\", "
                     "\"expect\": [\"bonjour\", \"hello\"], \"target\": \"body\"}",
                     http_output));
    assert_false(met("{\"type\": \"jsonpath\", \"path\": \"$.foo[*].baz\", "
                     "\"expect\": [\"hello\"], \"target\": \"body\"}",
                     http_output));
}

static void test_tolerance_jsonpath_expect_scalar(void **state)
{
    (void)state;
    assert_true(met("{\"type\": \"jsonpath\", \"path\": \"$.body.ok\", \"expect\": true}",
                    http_output));
    assert_true(met("{\"type\": \"jsonpath\", \"path\": \"$[*].v\", \"expect\": 1}",
                    "[{\"v\": 1}, {\"v\": 1.0}]"));
    assert_false(met("{\"type\": \"jsonpath\", \"path\": \"$[*].v\", \"expect\": 1}",
                     "[{\"v\": 1}, {\"v\": 2}]"));
    /* No match is not met, even though no match differs from expect. */
    assert_false(met("{\"type\": \"jsonpath\", \"path\": \"$.none\", \"expect\": 1}", "{}"));
}

static void test_tolerance_jsonpath_count(void **state)
{
    (void)state;
    assert_true(met("{\"type\": \"jsonpath\", \"path\": \"$.foo.*[?(@.baz)].baz\", \"count\": 2, "
                    "\"target\": \"body\"}",
                    http_output));
    assert_false(met("{\"type\": \"jsonpath\", \"path\": \"$.foo[*]\", \"count\": 3, "
                     "\"target\": \"body\"}",
                     http_output));
    assert_true(met("{\"type\": \"jsonpath\", \"path\": \"$.none\", \"count\": 0}", "{}"));
    /* count and expect must both hold. */
    assert_false(met("{\"type\": \"jsonpath\", \"path\": \"$[*]\", \"count\": 2, \"expect\": 1}",
                     "[1, 2]"));
    assert_true(met("{\"type\": \"jsonpath\", \"path\": \"$[*]\", \"count\": 2, \"expect\": 1}",
                    "[1, 1]"));
}

static void test_tolerance_jsonpath_without_expect(void **state)
{
    (void)state;
    assert_true(met("{\"type\": \"jsonpath\", \"path\": \"$.status\"}", http_output));
    assert_false(met("{\"type\": \"jsonpath\", \"path\": \"$.missing\"}", http_output));
    assert_false(met("{\"type\": \"jsonpath\", \"path\": \"$.a\", \"target\": \"nope\"}",
                     http_output));
}

static void test_tolerance_jsonpath_parses_text_body(void **state)
{
    (void)state;
    assert_true(met("{\"type\": \"jsonpath\", \"path\": \"$.ok\", \"expect\": false, "
                    "\"target\": \"body\"}",
                    "{\"status\": 503, \"body\": \"{\\\"ok\\\": false}\"}"));
    assert_true(met("{\"type\": \"jsonpath\", \"path\": \"$.items[1]\", \"expect\": 2, "
                    "\"target\": \"stdout\"}",
                    "{\"status\": 0, \"stdout\": \"{\\\"items\\\": [1, 2]}\\n\"}"));
    /* Text that is not JSON is queried as a string, which has no members. */
    assert_false(met("{\"type\": \"jsonpath\", \"path\": \"$.ok\", \"target\": \"body\"}",
                     "{\"status\": 200, \"body\": \"not json\"}"));
    assert_true(met("{\"type\": \"jsonpath\", \"path\": \"$\", \"expect\": \"not json\", "
                    "\"target\": \"body\"}",
                    "{\"status\": 200, \"body\": \"not json\"}"));
}

static void test_tolerance_check_null_output(void **state)
{
    json_t *tolerance = parse_json("200");
    struct err err;
    bool result = true;

    (void)state;
    assert_int_equal(tolerance_check(tolerance, NULL, &result, &err), 0);
    assert_false(result);
    json_decref(tolerance);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tolerance_valid_forms),
        cmocka_unit_test(test_tolerance_float_rejected),
        cmocka_unit_test(test_tolerance_invalid_forms_rejected),
        cmocka_unit_test(test_tolerance_range_malformed),
        cmocka_unit_test(test_tolerance_regex_malformed),
        cmocka_unit_test(test_tolerance_jsonpath_malformed),
        cmocka_unit_test(test_tolerance_scalars_compare_status),
        cmocka_unit_test(test_tolerance_lists),
        cmocka_unit_test(test_tolerance_range),
        cmocka_unit_test(test_tolerance_regex),
        cmocka_unit_test(test_tolerance_regex_invalid_utf8_subject),
        cmocka_unit_test(test_tolerance_jsonpath_expect_list),
        cmocka_unit_test(test_tolerance_jsonpath_expect_scalar),
        cmocka_unit_test(test_tolerance_jsonpath_count),
        cmocka_unit_test(test_tolerance_jsonpath_without_expect),
        cmocka_unit_test(test_tolerance_jsonpath_parses_text_body),
        cmocka_unit_test(test_tolerance_check_null_output),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
